using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Rumor.Core;
using Rumor.Transport;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor agent</c>: one node in the foreground. It binds, joins through the seeds, logs every
/// membership change as one timestamped line, and on Ctrl+C or SIGTERM leaves the cluster
/// gracefully (bounded wait) and exits 0. Failures exit non-zero with one clear line: the address
/// is in use, no seed answered, or the command line is wrong.
/// </summary>
internal static class AgentCommand
{
    /// <summary>How long a graceful stop waits for the leave announcement to spread.</summary>
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(5);

    private static readonly ArgParser Parser = new(
        "rumor agent",
        "Runs one gossip node in the foreground and logs membership changes. Ctrl+C (or SIGTERM) leaves the cluster gracefully and exits.",
        new OptionSpec("name", "NAME", "This member's unique name (default: the host name)."),
        new OptionSpec("bind", "ADDR:PORT", "Where to listen for UDP and TCP (default 0.0.0.0:7946; port 0 picks a free one)."),
        new OptionSpec("advertise", "ADDR:PORT", "The address others reach us at (default: the bind address, or this host's first address when binding 0.0.0.0)."),
        new OptionSpec("join", "ADDR:PORT", "A seed to join through; repeat for several. Exits 1 when none answers.", Repeatable: true),
        new OptionSpec("preset", "lan|wan|local", "Protocol timings (default lan): memberlist's LAN, WAN or single-host values."),
        new OptionSpec("meta", "KEY=VALUE", "A metadata tag others see; repeat for several.", Repeatable: true));

    public static string Usage => Parser.FormatUsage();

    /// <summary>What the command line asks for, validated as far as possible before anything binds.</summary>
    internal sealed record AgentConfig(GossipOptions Options, NodeAddress Bind, string Preset);

    /// <summary>Parses and checks the arguments; null when help was asked for. Throws <see cref="UsageException"/>.</summary>
    internal static AgentConfig? ParseArguments(IReadOnlyList<string> args)
    {
        ParsedArgs parsed = Parser.Parse(args);
        if (parsed.Help)
        {
            return null;
        }

        string preset = parsed.Get("preset") ?? "lan";
        GossipOptions baseline;
        try
        {
            baseline = GossipOptions.Preset(preset);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"unknown preset '{preset}': expected lan, wan or local.");
        }

        NodeAddress bind = ParseAddress("bind", parsed.Get("bind") ?? "0.0.0.0:7946");
        NodeAddress advertise = parsed.Get("advertise") is { } text ? ParseAddress("advertise", text) : ChooseAdvertiseAddress(bind);
        NodeAddress[] seeds = [.. parsed.GetAll("join").Select(seed => ParseAddress("join", seed))];
        byte[] metadata = MetadataTags.Encode(parsed.GetAll("meta").Select(MetadataTags.Parse));
        GossipOptions options = baseline with
        {
            Name = parsed.Get("name") ?? Environment.MachineName,
            AdvertiseAddress = advertise,
            Seeds = seeds,
            Metadata = metadata,
        };
        return new AgentConfig(options, bind, preset.ToLowerInvariant());
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop)
    {
        AgentConfig? config;
        try
        {
            config = ParseArguments(args);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
            await error.WriteLineAsync("Run 'rumor agent --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (config is null)
        {
            await output.WriteAsync(Usage).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        TextWriter log = TextWriter.Synchronized(output);
        GossipTransportSettings settings = new() { BindAddress = config.Bind, OnEvent = e => LogEvent(log, e) };
        GossipTransport transport;
        try
        {
            transport = await GossipTransport.StartAsync(config.Options, settings, stop).ConfigureAwait(false);
        }
        catch (TransportBindException e)
        {
            await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (GossipOptionsException e)
        {
            await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Ok;
        }

        await using (transport.ConfigureAwait(false))
        {
            Log(log, $"agent {transport.Name} running at {transport.Address} (bound {NodeAddress.From(transport.LocalEndPoint)}, preset {config.Preset}); Ctrl+C leaves the cluster and exits");
            if (config.Options.Seeds.Count > 0 && !await JoinAsync(transport, log, error, stop).ConfigureAwait(false))
            {
                return stop.IsCancellationRequested ? ExitCodes.Ok : ExitCodes.Failure;
            }

            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: the graceful path.
            }

            Log(log, $"leaving the cluster (waiting at most {LeaveTimeout.TotalSeconds:0} s)");
            bool left = await transport.LeaveAsync(LeaveTimeout, CancellationToken.None).ConfigureAwait(false);
            Log(log, left ? "left the cluster" : $"the leave was not confirmed within {LeaveTimeout.TotalSeconds:0} s; stopping anyway");
        }

        Log(log, "stopped");
        return ExitCodes.Ok;
    }

    /// <summary>Joins through the configured seeds; false (after saying why on stderr) when none answered.</summary>
    private static async Task<bool> JoinAsync(GossipTransport transport, TextWriter log, TextWriter error, CancellationToken stop)
    {
        JoinResult result;
        try
        {
            result = await transport.JoinAsync(stop).ConfigureAwait(false);
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

    private static NodeAddress ParseAddress(string option, string text) =>
        NodeAddress.TryParse(text, out NodeAddress address)
            ? address
            : throw new UsageException($"--{option}: '{text}' is not an address: expected IPv4:port (127.0.0.1:7946) or [IPv6]:port ([::1]:7946).");

    /// <summary>
    /// When bound to every interface (0.0.0.0 or [::]) the bind address means nothing to others:
    /// advertise this host's first usable address of the same family instead, as memberlist does.
    /// Otherwise leave it empty: the transport advertises the bound address.
    /// </summary>
    private static NodeAddress ChooseAdvertiseAddress(NodeAddress bind)
    {
        IPAddress ip = bind.ToIPAddress();
        if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
        {
            return default;
        }

        AddressFamily family = ip.AddressFamily;
        IEnumerable<IPAddress> candidates = NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .Where(address => address.AddressFamily == family && !address.IsIPv6LinkLocal && !IPAddress.IsLoopback(address));
        IPAddress chosen = candidates.FirstOrDefault()
            ?? throw new UsageException($"--bind {bind} listens on every interface and this host has no other address to advertise: pass --advertise ADDR:PORT.");
        return NodeAddress.From(chosen, bind.Port);
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

    private static void Log(TextWriter log, string message) =>
        log.WriteLine(DateTime.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) + "  " + message);
}
