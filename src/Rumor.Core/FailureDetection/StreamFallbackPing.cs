using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.FailureDetection;

/// <summary>
/// The stream fallback ping (memberlist's TCP ping). When a direct ping times out, besides the
/// indirect pings, the prober opens a stream to the target carrying the same Ping packet; the target
/// answers on the stream with an Ack packet. The probe's verdict waits for its deadline as usual:
/// an ack by datagram wins, and only a probe saved by the stream alone counts as
/// <see cref="Diagnostics.NodeCounters.FallbackAcks"/> (datagrams to that member are failing while
/// streams work: a firewall or a misconfigured network, not a dead member). Streams are told apart
/// from push-pull by the packet's header type; their ids share the node's stream id space. At most
/// <see cref="StreamsMax"/> are pending; each ends by reply, failure, or at the probe deadline.
/// It reaches the kernel only through <see cref="IModuleContext"/>, and tells the kernel's probe
/// about an ack through <paramref name="acked"/> (the probe sequence and the time).
/// </summary>
/// <param name="context">The kernel's doors: streams, timers, counters, names.</param>
/// <param name="acked">Called when a stream brings the ack for the probe of a sequence.</param>
/// <param name="notPing">Where an incoming stream goes when it does not open as a ping (push-pull, which counts what is wrong with it).</param>
internal sealed class StreamFallbackPing(IModuleContext context, Action<uint, TimeSpan> acked, IStreamRequestHandler notPing) : IStreamRequestHandler
{
    /// <summary>Bound of pending fallback streams (one per probe; a probe lasts one interval, the stream at most that).</summary>
    public const int StreamsMax = 16;

    private readonly Dictionary<long, uint> _pending = [];
    private TimerQueue<long>? _deadlines;

    /// <summary>Registers the stream answer and the deadline timers; call once from the node's constructor.</summary>
    public void Register()
    {
        _deadlines = context.CreateTimers<long>(OnDeadline);
        context.HandleStream(MessageType.Ping, this);
    }

    /// <summary>Opens a stream ping to <paramref name="target"/> for the probe <paramref name="sequence"/>, waiting until <paramref name="probeDeadline"/> at most.</summary>
    public void Open(Member target, uint sequence, TimeSpan probeDeadline, TimeSpan now)
    {
        if (_pending.Count >= StreamsMax)
        {
            context.Counters.FallbackStreamsDropped++;
            return;
        }

        Member self = context.Self;
        byte[] request = PacketBuilder.EncodeSingle(new PingMessage(sequence, target.Name, self.Name, self.Address));
        long streamId = context.NextStreamId();
        _pending[streamId] = sequence;

        // An answer after the probe's deadline no longer changes anything: stop waiting there.
        TimeSpan streamDeadline = now + context.Options.StreamTimeout;
        _deadlines!.Schedule(probeDeadline < streamDeadline ? probeDeadline : streamDeadline, streamId);
        context.OpenStream(streamId, target.Address, request);
    }

    /// <summary>True when <paramref name="streamId"/> is one of ours (then the reply is handled here).</summary>
    public bool TryResponse(long streamId, ReadOnlySpan<byte> response, TimeSpan now)
    {
        if (!_pending.ContainsKey(streamId))
        {
            return false;
        }

        if (!context.Enter(now) || !_pending.Remove(streamId, out uint sequence))
        {
            return true;
        }

        context.Counters.StreamBytesReceived += response.Length;
        DecodeError error = PacketReader.TryOpen(response, WireLimits.DatagramMaxBytes, out PacketReader reader);
        AckMessage ack = default;
        if (error == DecodeError.None)
        {
            error = reader.HeaderType != MessageType.Ack || !reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _)
                ? DecodeError.Malformed
                : AckMessage.TryDecode(payload, context.Names, out ack);
        }

        if (error != DecodeError.None)
        {
            context.Counters.CountDecodeError(error);
            context.Counters.StreamFailures++;
        }
        else if (ack.Sequence == sequence)
        {
            acked(sequence, now);
        }

        return true;
    }

    /// <summary>True when the failed <paramref name="streamId"/> was one of ours.</summary>
    public bool TryFailed(long streamId, TimeSpan now)
    {
        if (!_pending.ContainsKey(streamId))
        {
            return false;
        }

        if (context.Enter(now) && _pending.Remove(streamId))
        {
            context.Counters.StreamFailures++;
        }

        return true;
    }

    /// <summary>Forgets every pending stream (the node stopped).</summary>
    public void Clear() => _pending.Clear();

    private void OnDeadline(long streamId, TimeSpan now)
    {
        if (_pending.Remove(streamId))
        {
            context.Counters.StreamFailures++;
        }
    }

    /// <summary>
    /// An incoming stream whose header says Ping: answer with an Ack packet on the stream. A packet
    /// that does not open as a ping goes to the constructor's <c>notPing</c>.
    /// </summary>
    void IStreamRequestHandler.HandleStreamRequest(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now)
    {
        if (PacketReader.TryOpen(request, WireLimits.DatagramMaxBytes, out PacketReader reader) != DecodeError.None || reader.HeaderType != MessageType.Ping)
        {
            notPing.HandleStreamRequest(streamId, from, request, now);
            return;
        }

        PingMessage ping = default;
        DecodeError error = DecodeError.Malformed;
        if (reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _))
        {
            error = PingMessage.TryDecode(payload, context.Names, out ping);
        }

        if (error != DecodeError.None)
        {
            context.Counters.CountDecodeError(error);
            return;
        }

        // A ping for a member that used to live at our address is not ours to answer.
        if (ping.TargetName.Length == 0 || ping.TargetName == context.Self.Name)
        {
            byte[] reply = PacketBuilder.EncodeSingle(new AckMessage(ping.Sequence));
            context.ReplyStream(streamId, reply);
        }
    }
}
