using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// The stream fallback ping (memberlist's TCP ping). When a direct ping times out, besides the
/// indirect pings, we open a stream to the target carrying the same Ping packet; the target
/// answers on the stream with an Ack packet. The probe's verdict waits for its deadline as usual:
/// an ack by datagram wins, and only a probe saved by the stream alone counts as
/// <see cref="Diagnostics.NodeCounters.FallbackAcks"/> (datagrams to that member are failing while
/// streams work: a firewall or a misconfigured network, not a dead member). Streams are told apart
/// from push-pull by the packet's header type; their ids share the push-pull id space. At most
/// <see cref="FallbackStreamsMax"/> are pending; each ends by reply, failure, or at the probe deadline.
/// </summary>
public sealed partial class GossipNode
{
    /// <summary>Bound of pending fallback streams (one per probe; a probe lasts one interval, the stream at most that).</summary>
    private const int FallbackStreamsMax = 16;

    private readonly Dictionary<long, FallbackStream> _fallbackStreams = [];

    private void OpenFallbackPing(ProbeState probe, TimeSpan now)
    {
        if (_fallbackStreams.Count >= FallbackStreamsMax)
        {
            Counters.FallbackStreamsDropped++;
            return;
        }

        Member target = probe.Target;
        byte[] request = PacketBuilder.EncodeSingle(new PingMessage(probe.Sequence, target.Name, _self.Name, _self.Address));
        long streamId = ++_nextStreamId;
        _fallbackStreams[streamId] = new FallbackStream(probe.Sequence);

        // An answer after the probe's deadline no longer changes anything: stop waiting there.
        TimeSpan deadline = probe.Deadline < now + _options.StreamTimeout ? probe.Deadline : now + _options.StreamTimeout;
        _timers.Schedule(deadline, new KernelTimer(KernelTimerKind.StreamDeadline, streamId));
        Counters.StreamsOpened++;
        Counters.StreamBytesSent += request.Length;
        HostOpenStream(streamId, target.Address, request);
    }

    private bool IsFallbackStream(long streamId) => _fallbackStreams.ContainsKey(streamId);

    private void OnFallbackResponse(long streamId, ReadOnlySpan<byte> response, TimeSpan now)
    {
        if (!Enter(now) || !_fallbackStreams.Remove(streamId, out FallbackStream pending))
        {
            return;
        }

        Counters.StreamBytesReceived += response.Length;
        DecodeError error = PacketReader.TryOpen(response, WireLimits.DatagramMaxBytes, out PacketReader reader);
        AckMessage ack = default;
        if (error == DecodeError.None)
        {
            error = reader.HeaderType != MessageType.Ack || !reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _)
                ? DecodeError.Malformed
                : AckMessage.TryDecode(payload, _names, out ack);
        }

        if (error != DecodeError.None)
        {
            Counters.CountDecodeError(error);
            Counters.StreamFailures++;
            return;
        }

        if (_probe is { } probe && probe.Sequence == pending.Sequence && ack.Sequence == pending.Sequence && probe.StreamAckedAt is null)
        {
            probe.StreamAckedAt = now;
        }
    }

    private void OnFallbackFailed(long streamId, TimeSpan now)
    {
        if (Enter(now) && _fallbackStreams.Remove(streamId))
        {
            Counters.StreamFailures++;
        }
    }

    /// <summary>The stream deadline for <paramref name="streamId"/> fired; true when it was a fallback ping's.</summary>
    private bool FallbackStreamDeadline(long streamId)
    {
        if (!_fallbackStreams.Remove(streamId))
        {
            return false;
        }

        Counters.StreamFailures++;
        return true;
    }

    /// <summary>
    /// An incoming stream whose header says Ping: answer with an Ack packet on the stream. A packet
    /// that does not open as a ping goes down the push-pull path, which counts what is wrong with it.
    /// </summary>
    private void AnswerStreamPing(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now)
    {
        if (PacketReader.TryOpen(request, WireLimits.DatagramMaxBytes, out PacketReader reader) != DecodeError.None || reader.HeaderType != MessageType.Ping)
        {
            AnswerPushPull(streamId, from, request, now);
            return;
        }

        PingMessage ping = default;
        DecodeError error = DecodeError.Malformed;
        if (reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _))
        {
            error = PingMessage.TryDecode(payload, _names, out ping);
        }

        if (error != DecodeError.None)
        {
            Counters.CountDecodeError(error);
            return;
        }

        // A ping for a member that used to live at our address is not ours to answer.
        if (ping.TargetName.Length == 0 || ping.TargetName == _self.Name)
        {
            byte[] reply = PacketBuilder.EncodeSingle(new AckMessage(ping.Sequence));
            Counters.StreamBytesSent += reply.Length;
            HostReplyStream(streamId, reply);
        }
    }

    private readonly record struct FallbackStream(uint Sequence);
}
