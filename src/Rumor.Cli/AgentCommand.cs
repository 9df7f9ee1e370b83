using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rumor.Agent;
using Rumor.Core;
using Rumor.Hosting;
using Rumor.Transport;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor agent</c>: one node in the foreground (the Rumor.Agent daemon: gossip, HTTP API,
/// dashboard, metrics). It binds, joins through the seeds, logs every
/// membership change as one timestamped line, and on Ctrl+C or SIGTERM leaves the cluster
/// gracefully (bounded wait) and exits 0. Failures exit non-zero with one clear line: the address
/// is in use, no seed answered, or the command line is wrong.
/// </summary>
internal static class AgentCommand
{
    /// <summary>How long a graceful stop waits for the leave announcement to spread.</summary>
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(5);

    private const string Summary = "Runs one gossip node in the foreground with its HTTP API and dashboard, and logs membership changes. Ctrl+C (or SIGTERM) leaves the cluster gracefully and exits. Precedence: flags > RUMOR_* environment variables > --config file.";

    /// <summary>The command for the parser, writing to the writers given.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        Command command = new("agent", Summary)
        {
            CliOptions.Text("--name", "NAME", "This member's unique name (default: the host name)."),
            Address(CliOptions.Text("--bind", "ADDR:PORT|HOST:PORT", "Where to listen for UDP and TCP (default 0.0.0.0:7946; port 0 picks a free one). A host name is resolved and each of its addresses tried until one binds."), hostNames: true),
            Address(CliOptions.Text("--advertise", "ADDR:PORT", "The address others reach us at (default: the bind address, or this host's first address when binding 0.0.0.0).")),
            Seed(CliOptions.Repeated("--join", "ADDR:PORT|HOST:PORT|dns:NAME[:PORT]", "A seed to join through; repeat for several. Exits 1 when none answers. HOST:PORT is resolved at start and every address tried. dns:NAME[:PORT] joins through every A/AAAA record of NAME (port 7946 by default), re-resolved whenever the node has to rejoin; with only DNS seeds and nobody answering, the node starts alone.")),
            Preset(CliOptions.Text("--preset", "lan|wan|local", "Protocol timings (default lan): memberlist's LAN, WAN or single-host values.").Completing("lan", "wan", "local")),
            CliOptions.Repeated("--tag", "KEY=VALUE", "A tag others see; repeat for several."),
            CliOptions.Repeated("--meta", "KEY=VALUE", "Same as --tag (the older name)."),
            Address(CliOptions.Text("--http", "ADDR:PORT", "Where the HTTP API and dashboard listen (default 127.0.0.1:7373; port 0 picks a free one).")),
            CliOptions.Text("--config", "FILE", "A JSON file of agent options (keys as in docs/CONFIGURATION.md)."),
            CliOptions.Count("--retry-join", "N", "When no seed answers, try the join N more times, waiting --retry-join-interval (default 1s) and doubling up to 30s (default 0: once only).", 0, 100_000, "a retry count"),
            ClientCommandDuration("--retry-join-interval", "The wait before the first join retry; each next wait doubles, at most 30s (default 1s)."),
            CliOptions.Text("--data-dir", "DIR", "Where the node keeps its identity file across restarts (default: nothing persisted)."),
            CliOptions.Text("--encrypt", "KEY", "Encrypt and authenticate gossip with this base64 key of 16, 24 or 32 bytes (`rumor keygen`; also RUMOR_ENCRYPT)."),
            CliOptions.Text("--keyring-file", "PATH", "A JSON array of base64 keys, the first primary; every key decrypts (key rotation)."),
            SerfAgentCommand.ProtocolOption(),
            CliOptions.Text("--token-file", "PATH", "A file holding the HTTP API's read-write token (or RUMOR_TOKEN, or Token in --config); required to listen on anything but loopback."),
            CliOptions.Text("--read-token-file", "PATH", "A file holding a read-only token for the HTTP API (GET requests only)."),
            CliOptions.Text("--tls-cert", "FILE", "Serve the HTTP API over HTTPS with this certificate (PEM or .pfx/.p12)."),
            CliOptions.Text("--tls-key", "FILE", "The PEM private key of --tls-cert when it is in a separate file."),
            CliOptions.Repeated("--event-handler", "[FILTER=]SCRIPT", "Run SCRIPT (/bin/sh -c) for matching events, as Serf does; FILTER is a comma-separated list of member-join, member-leave, member-failed, member-update, member-reap, user, user:NAME, query, query:NAME (default: every event). A query is answered with the script's output. Repeat for several (docs/OPERATIONS.md)."),
            ClientCommandDuration("--event-handler-timeout", "Kill an event handler still running after this long (default 30s)."),
            CliOptions.Text("--log-level", "LEVEL", "The least severe lines printed: debug, information (default), warning or error; SIGHUP reloads it.").Completing("debug", "information", "warning", "error"),
        };
        command.SetAction((parsed, stop) => RunAsync(parsed, output, error, stop));
        return command;
    }

    /// <summary>
    /// What the command line asks for, checked as far as possible before anything binds: the
    /// config file, the flags as configuration keys (the highest layer), and the seeds.
    /// </summary>
    internal sealed record AgentConfig(string? ConfigFile, IReadOnlyDictionary<string, string?> Flags, IReadOnlyList<string> Seeds)
    {
        /// <summary>Every address a --bind host name resolved to, in order (empty when --bind was an address): tried until one binds.</summary>
        public IReadOnlyList<string> BindCandidates { get; init; } = [];

        /// <summary>Merges the file, the environment (<paramref name="environment"/>, or the process's) and the flags.</summary>
        public AgentSettings Load(System.Collections.IDictionary? environment = null)
        {
            AgentSettings settings = AgentConfiguration.Load(ConfigFile, Flags, Seeds, environment);
            // The command keeps its historic contract: exit 1 when no seed answers; it leaves by itself.
            settings.Rumor.JoinRequired = true;
            settings.Rumor.LeaveOnStop = false;
            settings.Rumor.LeaveTimeout = LeaveTimeout;
            return settings;
        }
    }

    /// <summary>Parses and checks a command line of <c>rumor agent</c>; null when help was asked for. Throws <see cref="UsageException"/>.</summary>
    internal static AgentConfig? ParseArguments(IReadOnlyList<string> args)
    {
        ParseResult parsed = RumorCommand.Parse(["agent", .. args], TextWriter.Null, TextWriter.Null);
        if (RumorCommand.IsHelp(parsed))
        {
            return null;
        }

        return UsageErrors.Find(parsed) is { Count: > 0 } errors ? throw new UsageException(errors[0]) : ParseArguments(parsed);
    }

    /// <summary>
    /// What the parsed command line asks for, as configuration keys (the highest layer), checked as
    /// far as possible before anything binds. Throws <see cref="UsageException"/>.
    /// </summary>
    internal static AgentConfig ParseArguments(ParseResult parsed)
    {
        Dictionary<string, string?> flags = new(StringComparer.OrdinalIgnoreCase);
        if (parsed.GetValue<string>("--preset") is { } preset)
        {
            flags["Preset"] = preset.ToLowerInvariant();
        }

        foreach ((string option, string key) in new[] { ("advertise", "Advertise"), ("http", "Http") })
        {
            if (parsed.GetValue<string>("--" + option) is { } text)
            {
                flags[key] = ParseAddress(option, text).ToString();
            }
        }

        List<string> bindCandidates = [];
        if (parsed.GetValue<string>("--bind") is { } bindText)
        {
            if (NodeAddress.TryParse(bindText, out NodeAddress bind))
            {
                flags["Bind"] = bind.ToString();
            }
            else
            {
                bindCandidates.AddRange(Resolve("--bind", bindText).Select(a => a.ToString()));
                flags["Bind"] = bindCandidates[0];
            }
        }

        string[] seeds = [.. (parsed.GetValue<string[]>("--join") ?? []).SelectMany(ParseSeed)];
        KeyValuePair<string, string>[] tags = [.. (parsed.GetValue<string[]>("--tag") ?? []).Concat(parsed.GetValue<string[]>("--meta") ?? []).Select(MetadataTags.Parse)];
        _ = MetadataTags.Encode(tags); // A repeated or malformed tag is a usage error now, not at start.
        foreach (KeyValuePair<string, string> tag in tags)
        {
            flags["Tags:" + tag.Key] = tag.Value;
        }

        if (parsed.GetValue<string>("--name") is { } name)
        {
            flags["Name"] = name;
        }

        if (parsed.GetValue<int?>("--retry-join") is { } retryJoin)
        {
            flags["RetryJoinMax"] = retryJoin.ToString(CultureInfo.InvariantCulture);
        }

        if (parsed.GetValue<TimeSpan?>("--retry-join-interval") is { } retryInterval)
        {
            flags["RetryJoinInterval"] = retryInterval.ToString("c", CultureInfo.InvariantCulture);
        }

        if (parsed.GetValue<string>("--data-dir") is { } dataDirectory)
        {
            flags["DataDirectory"] = dataDirectory;
        }

        if (parsed.GetValue<string>("--encrypt") is { } encryptKey)
        {
            try
            {
                _ = Core.Security.GossipKeyring.ParseKey(encryptKey); // a bad key is a usage error now, not at start
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new UsageException("--encrypt: " + e.Message.Split(" (Parameter", 2)[0]);
            }

            flags["EncryptKey"] = encryptKey;
        }

        if (parsed.GetValue<string>("--keyring-file") is { } keyringFile)
        {
            flags["KeyringFile"] = keyringFile;
        }

        if (parsed.GetValue<string>("--protocol") is { } protocol)
        {
            flags["Protocol"] = protocol.ToLowerInvariant();
        }

        foreach ((string option, string key) in new[] { ("token-file", "TokenFile"), ("read-token-file", "ReadTokenFile"), ("tls-cert", "TlsCertificate"), ("tls-key", "TlsKey") })
        {
            if (parsed.GetValue<string>("--" + option) is { } path)
            {
                flags[key] = path;
            }
        }

        string[] handlers = parsed.GetValue<string[]>("--event-handler") ?? [];
        for (int i = 0; i < handlers.Length; i++)
        {
            try
            {
                _ = Agent.EventHandlers.EventHandlerSpec.Parse(handlers[i]); // a bad handler is a usage error now, not at start
            }
            catch (FormatException e)
            {
                throw new UsageException("--event-handler: " + e.Message);
            }

            flags["EventHandlers:" + i.ToString(CultureInfo.InvariantCulture)] = handlers[i];
        }

        if (parsed.GetValue<string>("--log-level") is { } logLevel)
        {
            try
            {
                _ = AgentConfiguration.LogLevelOf(logLevel);
            }
            catch (AgentConfigurationException e)
            {
                throw new UsageException("--log-level: " + e.Message);
            }

            flags["LogLevel"] = logLevel;
        }

        if (parsed.GetValue<TimeSpan?>("--event-handler-timeout") is { } handlerTimeout)
        {
            flags["EventHandlerTimeout"] = DurationText.Format(handlerTimeout);
        }

        return new AgentConfig(parsed.GetValue<string>("--config"), flags, seeds) { BindCandidates = bindCandidates };
    }

    private static async Task<int> RunAsync(ParseResult parsed, TextWriter output, TextWriter error, CancellationToken stop)
    {
        AgentSettings settings;
        IReadOnlyList<string> binds;
        try
        {
            AgentConfig config = ParseArguments(parsed);
            settings = config.Load();
            binds = config.BindCandidates.Count > 1 ? config.BindCandidates : [settings.Rumor.Bind];
            StartupTrace.Mark("configuration loaded");
        }
        catch (Exception e) when (e is UsageException or AgentConfigurationException)
        {
            return await UsageErrors.ReportAsync(error, "rumor agent", [e.Message]).ConfigureAwait(false);
        }

        TextWriter log = TextWriter.Synchronized(output);
        if (settings.Protocol == AgentProtocol.Serf)
        {
            return await SerfAgentCommand.RunAsync(settings, log, error, stop).ConfigureAwait(false);
        }

        RumorAgent agent;
        LogFilter filter = new() { Level = settings.LogLevel };
        try
        {
            agent = await StartOnFirstBindableAsync(settings, binds, log, filter, stop).ConfigureAwait(false);
        }
        catch (OptionsValidationException e)
        {
            foreach (string failure in e.Failures)
            {
                await error.WriteLineAsync($"rumor agent: {failure}").ConfigureAwait(false);
            }

            return ExitCodes.Usage;
        }
        catch (TransportBindException e)
        {
            await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not IdentityFileException && !IsBindFailure(e) && settings.Rumor.DataDirectory is { } directory)
        {
            // A data directory that cannot be created or written (--data-dir /proc/nope) fails with
            // an IOException too: blame it, not the HTTP address.
            await error.WriteLineAsync($"rumor agent: the data directory {directory} cannot be used: {e.Message} (choose another with --data-dir DIR)").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (IOException e) when (e is not IdentityFileException)
        {
            await error.WriteLineAsync($"rumor agent: the HTTP address {settings.Http} cannot be bound: {e.Message} (choose another with --http ADDR:PORT)").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (AgentConfigurationException e)
        {
            await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is GossipOptionsException or IdentityFileException)
        {
            await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Ok;
        }

        await using (agent.ConfigureAwait(false))
        {
            RumorNode node = agent.Node;
            agent.EventHandlers.Logged += (level, message) =>
            {
                if (level >= filter.Level)
                {
                    Log(log, message);
                }
            };
            RumorSubscription events = node.OpenStream();
            Task printer = PrintEventsAsync(events, log, filter);
            Log(log, $"agent {node.Name} running at {node.Address} (bound {NodeAddress.From(node.Transport.LocalEndPoint)}, preset {node.Preset}); HTTP API and dashboard at {agent.Url}; Ctrl+C leaves the cluster and exits");
            if (!await ReportJoinAsync(node, log, error, stop).ConfigureAwait(false))
            {
                await events.DisposeAsync().ConfigureAwait(false);
                return stop.IsCancellationRequested ? ExitCodes.Ok : ExitCodes.Failure;
            }

            // Runs until Ctrl+C or SIGTERM (stop), or until the agent stops itself ('rumor leave');
            // SIGHUP reloads the configuration instead of ending the process.
            using CancellationTokenSource running = CancellationTokenSource.CreateLinkedTokenSource(stop, agent.Stopping);
            Channel<bool> reloads = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
            using PosixSignalRegistration hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                reloads.Writer.TryWrite(true);
            });
            AgentReload reload = new(parsed, agent, settings, filter, message => Log(log, message));
            try
            {
                while (true)
                {
                    await reloads.Reader.ReadAsync(running.Token).ConfigureAwait(false);
                    await reload.RunAsync(running.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C, SIGTERM or a stop after 'rumor leave': the graceful path.
            }

            if (agent.StoppingAfterLeave)
            {
                Log(log, "the agent was asked to stop after leaving the cluster");
            }
            else
            {
                Log(log, $"leaving the cluster (waiting at most {LeaveTimeout.TotalSeconds:0} s)");
                bool left = await node.LeaveAsync(LeaveTimeout, CancellationToken.None).ConfigureAwait(false);
                Log(log, left ? "left the cluster" : $"the leave was not confirmed within {LeaveTimeout.TotalSeconds:0} s; stopping anyway");
            }

            await agent.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await events.DisposeAsync().ConfigureAwait(false);
            await Task.WhenAny(printer, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
        }

        Log(log, "stopped");
        return ExitCodes.Ok;
    }

    /// <summary>True when the exception is Kestrel failing to bind its address (a socket error underneath), not a file.</summary>
    private static bool IsBindFailure(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException || inner.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Starts the agent on the first of <paramref name="binds"/> that binds (a --bind host name's addresses, in order).</summary>
    private static async Task<RumorAgent> StartOnFirstBindableAsync(AgentSettings settings, IReadOnlyList<string> binds, TextWriter log, LogFilter filter, CancellationToken stop)
    {
        for (int i = 0; ; i++)
        {
            settings.Rumor.Bind = binds[i];
            try
            {
                // The factory's own floor (Information by default) would hide the debug lines that
                // --log-level debug asks for: the provider applies the level itself.
                return await RumorAgent.StartAsync(settings, logging => logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace).AddProvider(new AgentLogProvider(log, filter)), cancellationToken: stop).ConfigureAwait(false);
            }
            catch (TransportBindException e) when (i < binds.Count - 1)
            {
                Log(log, $"could not bind {binds[i]} ({e.Message}); trying {binds[i + 1]}");
            }
        }
    }

    private static async Task PrintEventsAsync(RumorSubscription events, TextWriter log, LogFilter filter)
    {
        try
        {
            await foreach (GossipEvent gossipEvent in events.ReadAllAsync().ConfigureAwait(false))
            {
                // Member events are information: a warning level keeps only problems.
                if (filter.Level <= Microsoft.Extensions.Logging.LogLevel.Information)
                {
                    LogEvent(log, gossipEvent);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Unsubscribed at stop.
        }
    }

    /// <summary>Reports the first join; false (after saying why on stderr) when no seed answered.</summary>
    private static async Task<bool> ReportJoinAsync(RumorNode node, TextWriter log, TextWriter error, CancellationToken stop)
    {
        JoinResult result;
        try
        {
            result = await node.FirstJoin.WaitAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        foreach (JoinSucceeded succeeded in result.Succeeded)
        {
            Log(log, $"joined through {succeeded.Seed}: learned {succeeded.MembersLearned} member(s)");
        }

        if (result.Joined)
        {
            foreach (JoinFailed failed in result.Failed)
            {
                Log(log, $"could not join through {failed.Seed}: {failed.Reason}");
            }

            return true;
        }

        foreach (JoinFailed failed in result.Failed)
        {
            await error.WriteLineAsync($"rumor agent: could not join through {failed.Seed}: {failed.Reason}").ConfigureAwait(false);
        }

        await error.WriteLineAsync($"rumor agent: no seed answered ({result.Failed.Count} tried); not joining an empty cluster of one.").ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// A seed: ADDR:PORT; HOST:PORT, resolved now to every address of HOST (each one a seed); or
    /// dns:NAME[:PORT] (every A/AAAA record of the name, re-resolved at rejoins; see <see cref="DnsSeed"/>).
    /// </summary>
    private static IEnumerable<string> ParseSeed(string text) =>
        DnsSeed.IsDnsSeed(text)
            ? (DnsSeed.TryParse(text, out DnsSeed seed, out string? problem) ? [seed.ToString()] : throw new UsageException($"--join: '{text}' is not a DNS seed (dns:NAME[:PORT]): {problem}."))
            : NodeAddress.TryParse(text, out NodeAddress address) ? [address.ToString()]
            : Resolve("--join", text).Select(a => a.ToString());

    /// <summary>Reads HOST:PORT (a host name, not an address) or null.</summary>
    internal static (string Host, ushort Port)? TryParseHostPort(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
        {
            return null;
        }

        string host = text[..colon];
        bool name = host.Length <= 253 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.') && host.Any(char.IsAsciiLetter)
            && !host.StartsWith('-') && !host.StartsWith('.');
        return name ? (host, port) : null;
    }

    /// <summary>Resolves HOST:PORT to every IPv4 and IPv6 address of HOST, in the resolver's order. Throws <see cref="UsageException"/>.</summary>
    private static List<NodeAddress> Resolve(string option, string text)
    {
        if (TryParseHostPort(text) is not { } hostPort)
        {
            throw new UsageException(AddressError(option, text));
        }

        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(hostPort.Host);
        }
        catch (SocketException e)
        {
            throw new UsageException($"{option}: the host name '{hostPort.Host}' cannot be resolved: {e.Message}.");
        }

        List<NodeAddress> resolved = [.. addresses
            .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            .Select(a => NodeAddress.From(new IPEndPoint(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a, hostPort.Port)))
            .Distinct()];
        return resolved.Count > 0 ? resolved : throw new UsageException($"{option}: the host name '{hostPort.Host}' has no IPv4 or IPv6 address.");
    }

    private static NodeAddress ParseAddress(string option, string text) =>
        NodeAddress.TryParse(text, out NodeAddress address) ? address : throw new UsageException(AddressError("--" + option, text));

    private static string AddressError(string option, string text) =>
        $"{option}: '{text}' is not an address: expected IPv4:port (127.0.0.1:7946) or [IPv6]:port ([::1]:7946){(option is "--bind" or "--join" ? " or host:port" : string.Empty)}.";

    /// <summary>Checks every value of an address option as the parser reads it (host names too, when the option resolves them).</summary>
    private static T Address<T>(T option, bool hostNames = false)
        where T : Option
    {
        option.Validators.Add(result =>
        {
            foreach (Token token in result.Tokens.Where(t => !NodeAddress.TryParse(t.Value, out _) && !(hostNames && TryParseHostPort(t.Value) is not null)))
            {
                result.AddError(AddressError(option.Name, token.Value));
            }
        });
        return option;
    }

    /// <summary>Checks every seed (an address or dns:NAME[:PORT]) as the parser reads it.</summary>
    private static T Seed<T>(T option)
        where T : Option
    {
        option.Validators.Add(result =>
        {
            foreach (Token token in result.Tokens)
            {
                if (!DnsSeed.IsDnsSeed(token.Value) && !NodeAddress.TryParse(token.Value, out _) && TryParseHostPort(token.Value) is null)
                {
                    result.AddError(AddressError(option.Name, token.Value));
                }
                else if (DnsSeed.IsDnsSeed(token.Value) && !DnsSeed.TryParse(token.Value, out _, out string? problem))
                {
                    result.AddError($"{option.Name}: '{token.Value}' is not a DNS seed (dns:NAME[:PORT]): {problem}.");
                }
            }
        });
        return option;
    }

    /// <summary>Checks the preset's name (any case) as the parser reads it.</summary>
    private static Option<TimeSpan?> ClientCommandDuration(string name, string description) =>
        CliOptions.Duration(name, description, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));

    private static Option<string> Preset(Option<string> option)
    {
        option.Validators.Add(result =>
        {
            string preset = result.GetValueOrDefault<string>();
            try
            {
                _ = GossipOptions.Preset(preset);
            }
            catch (ArgumentException)
            {
                result.AddError($"unknown preset '{preset}': expected lan, wan or local.");
            }
        });
        return option;
    }

    private static void LogEvent(TextWriter log, GossipEvent gossipEvent)
    {
        switch (gossipEvent)
        {
            case MemberChanged changed:
                Log(log, $"member {changed.Member.Name} {changed.Member.Address} {Describe(changed.Kind)}");
                break;
            case NameConflict conflict:
                Log(log, $"name conflict: {conflict.Name} is claimed at {conflict.Known} and at {conflict.Other}");
                break;
            default:
                // Join results are reported from JoinAsync's result; leave completion by RunAsync.
                break;
        }
    }

    internal static string Describe(MemberChangeKind kind) => kind switch
    {
        MemberChangeKind.Joined => "joined",
        MemberChangeKind.Updated => "updated",
        MemberChangeKind.Suspected => "suspected",
        MemberChangeKind.Recovered => "recovered (refuted the suspicion)",
        MemberChangeKind.Failed => "failed",
        MemberChangeKind.Left => "left",
        MemberChangeKind.Reaped => "forgotten (reaped)",
        _ => kind.ToString().ToLowerInvariant(),
    };

    internal static void Log(TextWriter log, string message) =>
        log.WriteLine(DateTime.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) + "  " + message);
}

/// <summary>The level <c>rumor agent</c> prints at, changed by a SIGHUP reload.</summary>
internal sealed class LogFilter
{
    private volatile int _level = (int)Microsoft.Extensions.Logging.LogLevel.Information;

    public Microsoft.Extensions.Logging.LogLevel Level
    {
        get => (Microsoft.Extensions.Logging.LogLevel)_level;
        set => _level = (int)value;
    }
}
