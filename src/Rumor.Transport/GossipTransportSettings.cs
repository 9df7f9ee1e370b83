using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// How the transport shell runs (as opposed to <see cref="GossipOptions"/>, which tune the protocol).
/// Every queue the shell owns has its bound here; overflow is counted in <see cref="TransportCounters"/>.
/// </summary>
public sealed record GossipTransportSettings
{
    /// <summary>
    /// Where to bind the UDP socket and the TCP listener (both on the same address and port). Null
    /// (the default): bind the options' <see cref="GossipOptions.AdvertiseAddress"/>. Port 0 picks a
    /// free port, which then becomes the advertised port as well.
    /// </summary>
    public NodeAddress? BindAddress { get; init; }

    /// <summary>Seed of the node's random source; null draws one from the OS (each process probes in its own order).</summary>
    public ulong? RandomSeed { get; init; }

    /// <summary>Most inputs (datagrams, incoming streams) waiting for the event loop; past it they are dropped and counted.</summary>
    public int InboxMax { get; init; } = 8192;

    /// <summary>Most events buffered for <see cref="GossipTransport.Events"/> and for <see cref="OnEvent"/>; past it the oldest are dropped and counted.</summary>
    public int EventQueueMax { get; init; } = 4096;

    /// <summary>Most streams open at once in each direction; past it new ones are refused and counted.</summary>
    public int StreamsMax { get; init; } = 64;

    /// <summary>Bound of every wait during <see cref="GossipTransport.DisposeAsync"/> (event loop exit, socket tasks).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Called for every event the node reports, in order, on a dispatcher task of its own (never on
    /// the event loop, so a slow handler delays other handlers but never the protocol). Exceptions
    /// are caught and counted. Set it here, rather than subscribing after start, to miss nothing.
    /// </summary>
    public Action<GossipEvent>? OnEvent { get; init; }

    /// <summary>
    /// Where the node keeps its identity file (<see cref="IdentityFile"/>). Null (the default):
    /// nothing is persisted. When set, a restart with the same name starts at generation
    /// max(stored + 1, Unix ms now) and incarnation stored + 1, so accusations about the previous
    /// run are refuted at once. A corrupt file or one of another name stops the start with an
    /// <see cref="IdentityFileException"/>, unless <see cref="ResetInvalidIdentity"/> is set.
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>Replace a corrupt identity file, or one written for another name, instead of refusing to start. Off by default: an operator should look first.</summary>
    public bool ResetInvalidIdentity { get; init; }

    /// <summary>
    /// The shell reports a stall of this process to the node (<see cref="GossipNode.OnLocalStall"/>)
    /// when the loop wakes later than this after a timer was due, or a garbage-collection pause
    /// longer than this happened. Zero turns the shell's reports off (the node still detects its own late timers).
    /// </summary>
    public TimeSpan StallThreshold { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Thread-pool work items queued above which the shell reports thread-pool starvation as a stall.</summary>
    public int ThreadPoolBacklogMax { get; init; } = 1024;

    /// <summary>The clock: monotonic timestamps for the node's <c>now</c>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Every problem with these settings; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        List<string> problems = [];
        if (InboxMax < 1)
        {
            problems.Add($"InboxMax is {InboxMax}; it must be at least 1.");
        }

        if (EventQueueMax < 1)
        {
            problems.Add($"EventQueueMax is {EventQueueMax}; it must be at least 1.");
        }

        if (StreamsMax < 1)
        {
            problems.Add($"StreamsMax is {StreamsMax}; it must be at least 1.");
        }

        if (StallThreshold < TimeSpan.Zero)
        {
            problems.Add($"StallThreshold is {StallThreshold}; it must not be negative.");
        }

        if (ThreadPoolBacklogMax < 1)
        {
            problems.Add($"ThreadPoolBacklogMax is {ThreadPoolBacklogMax}; it must be at least 1.");
        }

        if (DataDirectory is { Length: 0 })
        {
            problems.Add("DataDirectory is empty; leave it null to persist nothing.");
        }

        if (ShutdownTimeout <= TimeSpan.Zero)
        {
            problems.Add($"ShutdownTimeout is {ShutdownTimeout}; it must be positive.");
        }

        return problems;
    }
}
