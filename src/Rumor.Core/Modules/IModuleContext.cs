using Rumor.Core.Diagnostics;
using Rumor.Core.Dissemination;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Modules;

/// <summary>
/// The one door from a module into the membership kernel (<see cref="GossipNode"/>). A module sees
/// the member view and the node's shared resources (random source, counters, name table, time),
/// sends through the kernel (which piggybacks broadcasts and compresses), queues broadcasts in a
/// priority class, schedules typed timers and opens streams; it never sees the kernel's fields.
/// Everything here runs on the node's one loop, synchronously, and follows the core's rules: no
/// clock (use <see cref="Now"/> or the <c>now</c> passed in), no randomness but <see cref="Random"/>.
/// <para>
/// Registration happens in the module's constructor: <see cref="Handle{T}"/> for each datagram
/// message it owns, <see cref="HandleStream"/> for each stream header type it answers, and
/// <see cref="CreateTimers{T}"/> for its timer queue. Hooks the kernel calls back are the virtual
/// members of <see cref="GossipModule"/>.
/// </para>
/// </summary>
internal interface IModuleContext
{
    /// <summary>The node's validated options.</summary>
    GossipOptions Options { get; }

    /// <summary>This node's own member entry.</summary>
    Member Self { get; }

    /// <summary>The largest generation (start epoch) accepted now: own generation + time since start + GenerationSkewMax.</summary>
    ulong GenerationHorizon { get; }

    /// <summary>Bytes a plain datagram may take: PacketBudgetBytes minus the encryption envelope when encrypting.</summary>
    int PacketBudgetBytes { get; }

    /// <summary>Every member known, this node included, in the kernel's (probe) order: a live view, do not keep indices across inputs.</summary>
    IReadOnlyList<Member> Members { get; }

    /// <summary>Alive or suspect members, this node included.</summary>
    int ActiveMemberCount { get; }

    /// <summary>The seeds this node knows, in the order they were added.</summary>
    IReadOnlyList<NodeAddress> Seeds { get; }

    /// <summary>True once the node announced its leave: modules stop starting conversations.</summary>
    bool IsLeaving { get; }

    /// <summary>The latest input time the node has seen.</summary>
    TimeSpan Now { get; }

    /// <summary>The node's seeded random source (draw order is part of the determinism contract).</summary>
    IRandomSource Random { get; }

    /// <summary>The node's counters.</summary>
    NodeCounters Counters { get; }

    /// <summary>The node's name table, for decoding names.</summary>
    NameTable Names { get; }

    /// <summary>Looks a member up by name.</summary>
    Member? FindMember(string name);

    /// <summary>The generation at which a member not in our table was heard leaving (<see cref="RecentDepartures"/>), if it was.</summary>
    ulong? UnknownMemberLeftAt(string name);

    /// <summary>Admits an input (a module's public operation): records <paramref name="now"/>; false when stopped; throws before start.</summary>
    bool Enter(TimeSpan now);

    /// <summary>Registers the handler of datagram messages of type <typeparamref name="T"/> (one owner per id).</summary>
    void Handle<T>(IMessageHandler<T> handler, bool internNames = true)
        where T : struct, IWireMessage<T>;

    /// <summary>Registers the handler of incoming streams whose packet header type is <paramref name="headerType"/>.</summary>
    void HandleStream(MessageType headerType, IStreamRequestHandler handler);

    /// <summary>Creates the caller's timer queue; entries fire through <paramref name="fire"/> in global (due, insertion) order.</summary>
    TimerQueue<T> CreateTimers<T>(Action<T, TimeSpan> fire)
        where T : struct;

    /// <summary>Sends one datagram as it is (compressed when that pays).</summary>
    void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet);

    /// <summary>Sends <paramref name="message"/> with as many queued broadcasts as fit beside it.</summary>
    void SendWithPiggyback<T>(NodeAddress to, in T message)
        where T : struct, IWireMessage<T>;

    /// <summary>The node's packet builder, reset to the packet budget, for a packet of several messages; finish with <see cref="SendStartedPacket"/>.</summary>
    PacketBuilder StartPacket();

    /// <summary>Sends what <see cref="StartPacket"/> began (nothing when empty), first filling it with broadcasts when <paramref name="piggyback"/>.</summary>
    void SendStartedPacket(NodeAddress to, bool piggyback);

    /// <summary>
    /// Queues an encoded message for rumor mongering; a newer one with the same <paramref name="key"/>
    /// replaces it. <paramref name="learnedFrom"/>, the sender of the packet that brought it, is never
    /// sent it back (see <see cref="Dissemination.BroadcastQueue"/>).
    /// </summary>
    void QueueBroadcast(string? key, byte[] message, BroadcastClass priority, TimeSpan? expiresAt = null, NodeAddress? learnedFrom = null);

    /// <summary>One extra gossip round of the waiting broadcasts as soon as the current input is handled (at most one per input).</summary>
    void RequestPushRound(TimeSpan now);

    /// <summary>Broadcasts of <paramref name="priority"/> still queued.</summary>
    int PendingBroadcasts(BroadcastClass priority);

    /// <summary>Drops queued broadcasts whose expiry has passed.</summary>
    void ExpireBroadcasts(TimeSpan now);

    /// <summary>
    /// Up to <paramref name="count"/> distinct indices into <see cref="Members"/> (never this node)
    /// satisfying <paramref name="filter"/>, by bounded random draws.
    /// </summary>
    int SampleMembers(Span<int> chosen, int count, Func<Member, bool> filter);

    /// <summary>
    /// This node accuses <paramref name="member"/> (as a failed probe does): withheld under the stall
    /// guard, else a suspicion by the kernel's rules, told to the accused directly.
    /// </summary>
    void Accuse(Member member, VerdictSource source, TimeSpan now);

    /// <summary>Reports an event to the shell.</summary>
    void Emit(GossipEvent gossipEvent);

    /// <summary>A new stream id (one id space with the kernel's streams); record it before <see cref="OpenStream"/>.</summary>
    long NextStreamId();

    /// <summary>Opens a stream and sends <paramref name="request"/> (counted); the reply comes to <see cref="GossipModule.OnStreamResponse"/>.</summary>
    void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request);

    /// <summary>Answers an incoming stream (counted).</summary>
    void ReplyStream(long streamId, ReadOnlySpan<byte> response);

    /// <summary>A stream packet in a pooled array, compressed into another when that pays (counted; the packet is then given back), else as it is; dispose the result once the host has the bytes.</summary>
    PooledBytes CompressStream(PooledBytes packet);

    /// <summary>
    /// The buffer to decompress a stream packet into: pooled when the packet declares at most
    /// StreamMaxBytes (dispose the result once what was decoded from it is handled; decoders copy
    /// what they keep), else the exact, refusing one; <paramref name="buffer"/> is null when the
    /// packet is not compressed.
    /// </summary>
    PooledBytes StreamScratch(ReadOnlySpan<byte> packet, out byte[]? buffer);
}
