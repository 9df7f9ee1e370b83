using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>What the agent runs with: the node's options and where the HTTP API listens.</summary>
/// <param name="Rumor">The node's options (name, bind, seeds, preset, tags, data directory, overrides).</param>
/// <param name="Http">Where the HTTP API and dashboard listen (default 127.0.0.1:7373; port 0 picks a free one).</param>
public sealed record AgentSettings(RumorOptions Rumor, NodeAddress Http)
{
    /// <summary>The HTTP API's default address: loopback only, so exposing it is an explicit choice.</summary>
    public static readonly NodeAddress DefaultHttp = NodeAddress.Parse("127.0.0.1:7373");

    /// <summary>
    /// Where to push metrics and traces over OTLP (a collector, e.g. <c>http://127.0.0.1:4317</c>);
    /// null (the default) exports nothing over OTLP (<c>/metrics</c> is always served). Loaded from
    /// the <c>OtlpEndpoint</c> key (<c>RUMOR_OTLPENDPOINT</c>), else the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>The wire dialect (key <c>Protocol</c>, flag <c>--protocol</c>): Rumor's own (default) or HashiCorp Serf's (docs/INTEROP.md).</summary>
    public AgentProtocol Protocol { get; init; } = AgentProtocol.Rumor;

    /// <summary>Tokens, TLS, accepted host names and the API's bounds (<see cref="ApiSettings"/>); the defaults suit a loopback agent.</summary>
    public ApiSettings Api { get; init; } = new();

    /// <summary>The event handlers, <c>[FILTER=]SCRIPT</c> each (<c>EventHandlers</c>, <c>--event-handler</c>); none by default.</summary>
    public IReadOnlyList<EventHandlers.EventHandlerSpec> EventHandlers { get; init; } = [];

    /// <summary>The bounds of the event handlers (<c>EventHandlerTimeout</c>, <c>EventHandlerConcurrency</c>, <c>EventHandlerQueueMax</c>).</summary>
    public EventHandlers.EventHandlerOptions EventHandlerOptions { get; init; } = Agent.EventHandlers.EventHandlerOptions.Default;

    /// <summary>Serf mode's event coalescing (<c>CoalescePeriod</c>, <c>QuiescentPeriod</c>, <c>UserCoalescePeriod</c>, <c>UserQuiescentPeriod</c>); Serf agent's 3 s / 1 s by default.</summary>
    public Serf.SerfCoalesceOptions SerfCoalesce { get; init; } = Serf.SerfCoalesceOptions.Default;

    /// <summary>Serf mode's node options (<c>EventImmediatePush</c>, <c>ReconnectTimeout</c>, <c>TombstoneTimeout</c>, <c>ReapInterval</c>); defaults as <see cref="Serf.SerfAgentOptions.Default"/>.</summary>
    public Serf.SerfAgentOptions SerfNode { get; init; } = Serf.SerfAgentOptions.Default;

    /// <summary>The least severe lines <c>rumor agent</c> prints (<c>LogLevel</c>, <c>--log-level</c>): information (default) prints member events; warning only problems. SIGHUP reloads it.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Information;
}

/// <summary>The wire dialect an agent speaks.</summary>
public enum AgentProtocol
{
    /// <summary>Rumor's own format and every Rumor feature.</summary>
    Rumor,

    /// <summary>memberlist 0.2.2 + Serf 0.9.4: membership and user events with real Serf agents; no KV, aggregates or queries.</summary>
    Serf,
}

/// <summary>A configuration mistake, with a message naming the option and where it came from.</summary>
public sealed class AgentConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AgentConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public AgentConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AgentConfigurationException()
    {
    }
}
