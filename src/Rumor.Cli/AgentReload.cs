using System.CommandLine;
using System.Globalization;
using Rumor.Agent;
using Rumor.Agent.EventHandlers;

namespace Rumor.Cli;

/// <summary>
/// What SIGHUP does to <c>rumor agent</c>, as in Serf: read the configuration again (the same
/// command line, the config file as it is now, the environment) and apply what can change at run
/// time: tags (spread as a metadata update), the log level, event handlers and their bounds, and the
/// HTTP API's tokens (<c>Token</c>/<c>TokenFile</c>, <c>ReadToken</c>/<c>ReadTokenFile</c>: the token
/// files are read again; the values are never logged) are logged and taken,
/// and every other option that changed is named as needing a restart. A configuration that no
/// longer loads is reported and the running one kept.
/// </summary>
internal sealed class AgentReload(ParseResult parsed, RumorAgent agent, AgentSettings started, LogFilter filter, Action<string> log)
{
    private IReadOnlyList<string> _handlers = [.. started.EventHandlers.Select(h => h.Text)];
    private (string? Token, string? ReadToken) _tokens = (started.Api.Token, started.Api.ReadToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        log("SIGHUP: reloading the configuration");
        AgentSettings fresh;
        try
        {
            fresh = AgentCommand.ParseArguments(parsed).Load();
        }
        catch (Exception e) when (e is UsageException or AgentConfigurationException)
        {
            log($"reload failed, keeping the running configuration: {e.Message}");
            return;
        }

        List<string> changes = [];
        IReadOnlyDictionary<string, string> tags = await agent.Node.GetTagsAsync(cancellationToken).ConfigureAwait(false);
        Dictionary<string, string> set = fresh.Rumor.Tags.Where(t => !tags.TryGetValue(t.Key, out string? v) || v != t.Value).ToDictionary(StringComparer.Ordinal);
        string[] delete = [.. tags.Keys.Where(k => !fresh.Rumor.Tags.ContainsKey(k))];
        if (set.Count > 0 || delete.Length > 0)
        {
            try
            {
                await agent.Node.UpdateTagsAsync(set, delete, cancellationToken).ConfigureAwait(false);
                changes.AddRange(set.Select(t => tags.TryGetValue(t.Key, out string? old) ? $"tag {t.Key}: {old} -> {t.Value}" : $"tag {t.Key}={t.Value} added"));
                changes.AddRange(delete.Select(k => $"tag {k} removed"));
            }
            catch (ArgumentException e)
            {
                log($"reload: the tags were not changed: {e.Message.Split(" (Parameter", 2)[0]}");
            }
        }

        if (fresh.LogLevel != filter.Level)
        {
            changes.Add($"log level {filter.Level.ToString().ToLowerInvariant()} -> {fresh.LogLevel.ToString().ToLowerInvariant()}");
            filter.Level = fresh.LogLevel;
        }

        string[] handlers = [.. fresh.EventHandlers.Select(h => h.Text)];
        if (!handlers.SequenceEqual(_handlers, StringComparer.Ordinal))
        {
            agent.EventHandlers.SetHandlers(fresh.EventHandlers);
            changes.Add(handlers.Length == 0 ? "event handlers: none" : $"event handlers: {string.Join("; ", handlers)}");
            _handlers = handlers;
        }

        if (fresh.Api.Token != _tokens.Token || fresh.Api.ReadToken != _tokens.ReadToken)
        {
            string? refused = agent.SetApiTokens(fresh.Api.Token, fresh.Api.ReadToken);
            if (refused is null)
            {
                changes.Add($"API tokens changed (read-write: {Describe(_tokens.Token, fresh.Api.Token)}, read-only: {Describe(_tokens.ReadToken, fresh.Api.ReadToken)})");
                _tokens = (fresh.Api.Token, fresh.Api.ReadToken);
            }
            else
            {
                changes.Add("API tokens not changed: " + refused);
            }
        }

        if (fresh.EventHandlerOptions != agent.EventHandlers.Options)
        {
            EventHandlerOptions bounds = fresh.EventHandlerOptions;
            agent.EventHandlers.SetOptions(bounds);
            changes.Add(string.Create(CultureInfo.InvariantCulture, $"event handler bounds: timeout {bounds.Timeout.TotalSeconds:0.###} s, concurrency {bounds.Concurrency}, queue {bounds.QueueMax}"));
        }

        foreach ((string name, object? before, object? after) in new (string, object?, object?)[]
        {
            ("Name", started.Rumor.Name, fresh.Rumor.Name),
            ("Bind", started.Rumor.Bind, fresh.Rumor.Bind),
            ("Advertise", started.Rumor.Advertise, fresh.Rumor.Advertise),
            ("Preset", started.Rumor.Preset, fresh.Rumor.Preset),
            ("Http", started.Http, fresh.Http),
            ("DataDirectory", started.Rumor.DataDirectory, fresh.Rumor.DataDirectory),
            ("EncryptKey", started.Rumor.EncryptKey, fresh.Rumor.EncryptKey),
        })
        {
            if (!Equals(before, after))
            {
                changes.Add($"{name} changed but needs a restart; still running with the old value");
            }
        }

        log(changes.Count == 0 ? "reload: nothing changed" : "reload: " + string.Join("; ", changes));
    }

    /// <summary>How a token changed, without its value.</summary>
    private static string Describe(string? before, string? after) => (before, after) switch
    {
        (null, null) => "none",
        (null, _) => "set",
        (_, null) => "removed",
        _ when before == after => "unchanged",
        _ => "replaced",
    };
}
