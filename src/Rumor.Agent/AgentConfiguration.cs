using System.Collections;
using Microsoft.Extensions.Configuration;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>
/// Builds <see cref="AgentSettings"/> from three layers, later ones winning: a JSON file, environment
/// variables with the <see cref="EnvironmentPrefix"/> prefix (<c>RUMOR_BIND</c>,
/// <c>RUMOR_TAGS__role</c>: a double underscore separates levels), and command-line flags. Keys are
/// <see cref="RumorOptions"/>' property names plus <c>Http</c>, case-insensitive. Lists are replaced
/// as a whole by the highest layer that sets them (seeds from flags replace the file's, they do not
/// merge by index); tags merge key by key. <c>RUMOR_SEEDS</c> may be a comma-separated list.
/// </summary>
public static class AgentConfiguration
{
    /// <summary>Prefix of the environment variables the agent reads.</summary>
    public const string EnvironmentPrefix = "RUMOR_";

    /// <summary>The key of <see cref="AgentSettings.OtlpEndpoint"/> (<c>RUMOR_OTLPENDPOINT</c> in the environment).</summary>
    public const string OtlpEndpointKey = "OtlpEndpoint";

    /// <summary>OpenTelemetry's standard variable, honoured when <see cref="OtlpEndpointKey"/> is not set.</summary>
    public const string StandardOtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Loads the layers. <paramref name="flags"/> maps option keys (<c>Name</c>, <c>Bind</c>,
    /// <c>Tags:role</c>, ...) to values; <paramref name="flagSeeds"/> are the seeds given as flags.
    /// <paramref name="environment"/> defaults to the process environment. Throws
    /// <see cref="AgentConfigurationException"/> naming the file or option at fault.
    /// </summary>
    public static AgentSettings Load(string? configFile, IReadOnlyDictionary<string, string?> flags, IReadOnlyList<string> flagSeeds, IDictionary? environment = null)
    {
        ArgumentNullException.ThrowIfNull(flags);
        ArgumentNullException.ThrowIfNull(flagSeeds);
        environment ??= Environment.GetEnvironmentVariables();

        IConfigurationRoot? file = null;
        if (configFile is not null)
        {
            string path = Path.GetFullPath(configFile);
            if (!File.Exists(path))
            {
                throw new AgentConfigurationException($"config file {path} does not exist.");
            }

            try
            {
                file = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();
            }
            catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
            {
                throw new AgentConfigurationException($"config file {path} is not valid JSON: {(e.InnerException ?? e).Message}", e);
            }
        }

        Dictionary<string, string?> env = new(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string name && name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && name.Length > EnvironmentPrefix.Length)
            {
                env[name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = entry.Value as string;
            }
        }

        // Not options of the agent: RUMOR_AGENT is the CLI client's address of the agent.
        env.Remove("AGENT");

        // RUMOR_ENCRYPT, Serf's name for the gossip key, is EncryptKey.
        if (env.Remove("ENCRYPT", out string? encrypt))
        {
            env["EncryptKey"] = encrypt;
        }
        IConfiguration environmentLayer = new ConfigurationBuilder().AddInMemoryCollection(env).Build();
        IConfiguration flagLayer = new ConfigurationBuilder().AddInMemoryCollection(flags).Build();

        ConfigurationBuilder builder = new();
        if (file is not null)
        {
            builder.AddConfiguration(file);
        }

        builder.AddConfiguration(environmentLayer).AddConfiguration(flagLayer);
        IConfigurationRoot combined = builder.Build();

        RumorOptions options = new();
        try
        {
            combined.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new AgentConfigurationException((e.InnerException is null ? e.Message : e.Message + " " + e.InnerException.Message).TrimEnd(), e);
        }

        options.Seeds = flagSeeds.Count > 0 ? [.. flagSeeds]
            : SeedsOf(environmentLayer) is { Count: > 0 } fromEnvironment ? fromEnvironment
            : file is not null ? SeedsOf(file) : [];

        string? httpText = combined["Http"];
        NodeAddress http = AgentSettings.DefaultHttp;
        if (!string.IsNullOrWhiteSpace(httpText) && !NodeAddress.TryParse(httpText.Trim(), out http))
        {
            throw new AgentConfigurationException($"Http '{httpText}' is not an address: expected IPv4:port (127.0.0.1:7373) or [IPv6]:port ([::1]:7373).");
        }

        AgentProtocol protocol = AgentProtocol.Rumor;
        if (combined["Protocol"] is { Length: > 0 } protocolText && !Enum.TryParse(protocolText.Trim(), ignoreCase: true, out protocol))
        {
            throw new AgentConfigurationException($"Protocol '{protocolText}' is not a protocol: expected rumor or serf.");
        }

        return new AgentSettings(options, http)
        {
            OtlpEndpoint = OtlpEndpointOf(combined, environment),
            Protocol = protocol,
            Api = ApiConfiguration.Load(combined),
            EventHandlers = EventHandlersOf(file, environmentLayer, flagLayer),
            EventHandlerOptions = EventHandlerOptionsOf(combined),
            SerfCoalesce = SerfCoalesceOf(combined),
            SerfNode = SerfNodeOf(combined),
            LogLevel = LogLevelOf(combined["LogLevel"]),
        };
    }

    /// <summary>Reads a log level: debug, information (info), warning (warn) or error, any case; the default when unset.</summary>
    public static Microsoft.Extensions.Logging.LogLevel LogLevelOf(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" => Microsoft.Extensions.Logging.LogLevel.Information,
        "debug" => Microsoft.Extensions.Logging.LogLevel.Debug,
        "information" or "info" => Microsoft.Extensions.Logging.LogLevel.Information,
        "warning" or "warn" => Microsoft.Extensions.Logging.LogLevel.Warning,
        "error" => Microsoft.Extensions.Logging.LogLevel.Error,
        _ => throw new AgentConfigurationException($"LogLevel is '{text}'; it must be debug, information, warning or error."),
    };

    /// <summary>The event handlers of the highest layer that names any (a list replaces, it does not merge).</summary>
    private static List<EventHandlers.EventHandlerSpec> EventHandlersOf(IConfiguration? file, IConfiguration environmentLayer, IConfiguration flagLayer)
    {
        List<string> texts = ListOf(flagLayer, "EventHandlers") is { Count: > 0 } fromFlags ? fromFlags
            : ListOf(environmentLayer, "EventHandlers") is { Count: > 0 } fromEnvironment ? fromEnvironment
            : file is not null ? ListOf(file, "EventHandlers") : [];
        List<EventHandlers.EventHandlerSpec> handlers = [];
        foreach (string text in texts)
        {
            try
            {
                handlers.Add(Agent.EventHandlers.EventHandlerSpec.Parse(text));
            }
            catch (FormatException e)
            {
                throw new AgentConfigurationException("EventHandlers: " + e.Message, e);
            }
        }

        return handlers;
    }

    private static EventHandlers.EventHandlerOptions EventHandlerOptionsOf(IConfiguration combined)
    {
        EventHandlers.EventHandlerOptions defaults = Agent.EventHandlers.EventHandlerOptions.Default;
        TimeSpan timeout = defaults.Timeout;
        if (combined["EventHandlerTimeout"] is { Length: > 0 } timeoutText
            && !DurationText.TryParse(timeoutText, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1), out timeout, out string error))
        {
            throw new AgentConfigurationException($"EventHandlerTimeout: {error}");
        }

        return new EventHandlers.EventHandlerOptions(
            timeout,
            IntegerOf(combined, "EventHandlerConcurrency", defaults.Concurrency, 1, 256),
            IntegerOf(combined, "EventHandlerQueueMax", defaults.QueueMax, 1, 65_536));
    }

    private static Serf.SerfCoalesceOptions SerfCoalesceOf(IConfiguration combined)
    {
        Serf.SerfCoalesceOptions defaults = Serf.SerfCoalesceOptions.Default;
        return new Serf.SerfCoalesceOptions(
            PeriodOf("CoalescePeriod", defaults.CoalescePeriod),
            PeriodOf("QuiescentPeriod", defaults.QuiescentPeriod),
            PeriodOf("UserCoalescePeriod", defaults.UserCoalescePeriod),
            PeriodOf("UserQuiescentPeriod", defaults.UserQuiescentPeriod));

        TimeSpan PeriodOf(string key, TimeSpan defaultValue)
        {
            if (combined[key] is not { Length: > 0 } text)
            {
                return defaultValue;
            }

            if (text.Trim() == "0")
            {
                return TimeSpan.Zero;
            }

            return DurationText.TryParse(text, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1), out TimeSpan value, out string error)
                ? value
                : throw new AgentConfigurationException($"{key}: {error} (0 turns coalescing off)");
        }
    }

    private static Serf.SerfAgentOptions SerfNodeOf(IConfiguration combined)
    {
        Serf.SerfAgentOptions defaults = Serf.SerfAgentOptions.Default;
        return new Serf.SerfAgentOptions(
            BooleanOf("EventImmediatePush", defaults.EventImmediatePush),
            DurationOf("ReconnectTimeout", defaults.ReconnectTimeout, TimeSpan.FromDays(3650)),
            DurationOf("TombstoneTimeout", defaults.TombstoneTimeout, TimeSpan.FromDays(3650)),
            DurationOf("ReapInterval", defaults.ReapInterval, TimeSpan.FromHours(1)),
            BooleanOf("MemberImmediatePush", defaults.MemberImmediatePush));

        bool BooleanOf(string key, bool defaultValue) =>
            combined[key] is not { Length: > 0 } text ? defaultValue
            : bool.TryParse(text.Trim(), out bool value) ? value
            : throw new AgentConfigurationException($"{key} is '{text}'; it must be true or false.");

        TimeSpan DurationOf(string key, TimeSpan defaultValue, TimeSpan max) =>
            combined[key] is not { Length: > 0 } text ? defaultValue
            : DurationText.TryParse(text, TimeSpan.FromMilliseconds(10), max, out TimeSpan value, out string error) ? value
            : throw new AgentConfigurationException($"{key}: {error}");
    }

    private static int IntegerOf(IConfiguration combined, string key, int defaultValue, int min, int max)
    {
        if (combined[key] is not { Length: > 0 } text)
        {
            return defaultValue;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new AgentConfigurationException($"{key} is '{text}'; it must be a whole number from {min} to {max}.");
    }

    /// <summary>The <c>OtlpEndpoint</c> key (any layer), else OpenTelemetry's own <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; null when neither is set.</summary>
    private static Uri? OtlpEndpointOf(IConfiguration combined, IDictionary environment)
    {
        (string key, string? text) = combined[OtlpEndpointKey] is { Length: > 0 } own
            ? (OtlpEndpointKey, own)
            : (StandardOtlpEndpointVariable, environment[StandardOtlpEndpointVariable] as string);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out Uri? endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new AgentConfigurationException($"{key} '{text}' is not an http:// or https:// URL (an OTLP collector, e.g. http://127.0.0.1:4317).");
        }

        return endpoint;
    }

    private static List<string> SeedsOf(IConfiguration layer) => ListOf(layer, "Seeds");

    private static List<string> ListOf(IConfiguration layer, string key)
    {
        IConfigurationSection section = layer.GetSection(key);
        if (section.Value is { } scalar)
        {
            return [.. scalar.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        return [.. section.GetChildren().OrderBy(child => int.TryParse(child.Key, out int i) ? i : int.MaxValue).Select(child => child.Value).OfType<string>()];
    }
}
