using Rumor.Core.Diagnostics;
using Rumor.Core.Dissemination;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;

namespace Rumor.Core;

/// <summary>
/// The kernel's side of <see cref="IModuleContext"/>: what modules may ask of the membership
/// kernel, each a thin door onto the kernel's own machinery (see docs/ARCHITECTURE.md).
/// </summary>
public sealed partial class GossipNode
{
    GossipOptions IModuleContext.Options => _options;

    IReadOnlyList<NodeAddress> IModuleContext.Seeds => _seeds;

    TimeSpan IModuleContext.Now => _now;

    IRandomSource IModuleContext.Random => _random;

    NodeCounters IModuleContext.Counters => Counters;

    NameTable IModuleContext.Names => _names;

    bool IModuleContext.Enter(TimeSpan now) => Enter(now);

    void IModuleContext.Handle<T>(IMessageHandler<T> handler, bool internNames) => _table.Add(handler, internNames);

    int IModuleContext.PacketBudgetBytes => PlainPacketBudget;

    ulong IModuleContext.GenerationHorizon => GenerationHorizon;

    void IModuleContext.HandleStream(MessageType headerType, IStreamRequestHandler handler) => _table.AddStream(headerType, handler);

    TimerQueue<T> IModuleContext.CreateTimers<T>(Action<T, TimeSpan> fire) => _timerSet.Create(fire);

    void IModuleContext.SendPacket(NodeAddress to, ReadOnlySpan<byte> packet) => SendPacket(to, packet);

    void IModuleContext.SendWithPiggyback<T>(NodeAddress to, in T message) => SendWithPiggyback(to, message);

    ulong? IModuleContext.UnknownMemberLeftAt(string name) => _departures.Find(name, _now)?.Generation;

    PacketBuilder IModuleContext.StartPacket() => StartBuilding();

    void IModuleContext.SendStartedPacket(NodeAddress to, bool piggyback)
    {
        if (piggyback)
        {
            _broadcasts.Fill(_builder ?? throw new InvalidOperationException("No packet is being built."), RetransmitLimit, to);
        }

        SendBuilt(to);
    }

    void IModuleContext.QueueBroadcast(string? key, byte[] message, BroadcastClass priority, TimeSpan? expiresAt, NodeAddress? learnedFrom) =>
        QueueBroadcast(key, message, priority: priority, expiresAt: expiresAt, learnedFrom: learnedFrom);

    void IModuleContext.RequestPushRound(TimeSpan now) => RequestPushRound(now);

    int IModuleContext.PendingBroadcasts(BroadcastClass priority) => _broadcasts.CountOf(priority);

    void IModuleContext.ExpireBroadcasts(TimeSpan now)
    {
        if (_broadcasts.ExpireDue(now) > 0)
        {
            Counters.SyncBroadcastClasses(_broadcasts);
        }
    }

    int IModuleContext.SampleMembers(Span<int> chosen, int count, Func<Member, bool> filter) => SampleMembers(chosen, count, filter);

    void IModuleContext.Accuse(Member member, VerdictSource source, TimeSpan now) => Accuse(member, source, now);

    void IModuleContext.Emit(GossipEvent gossipEvent) => Emit(gossipEvent);

    long IModuleContext.NextStreamId() => ++_nextStreamId;

    void IModuleContext.OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request)
    {
        Counters.StreamsOpened++;
        Counters.StreamBytesSent += request.Length;
        HostOpenStream(streamId, to, request);
    }

    void IModuleContext.ReplyStream(long streamId, ReadOnlySpan<byte> response)
    {
        Counters.StreamBytesSent += response.Length;
        HostReplyStream(streamId, response);
    }

    PooledBytes IModuleContext.CompressStream(PooledBytes packet) => CompressStream(packet);

    PooledBytes IModuleContext.StreamScratch(ReadOnlySpan<byte> packet, out byte[]? buffer) => StreamScratch(packet, out buffer);
}
