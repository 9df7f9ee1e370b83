using System.Runtime.InteropServices;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Coordinates;

/// <summary>
/// Vivaldi network coordinates in the Rumor dialect, as Serf keeps them: every ack this node sends
/// is followed, in the same packet, by a <see cref="CoordinateMessage"/> with its coordinate; when
/// the ack of our own direct probe arrives (before the probe timeout, not relayed) the kernel tells
/// us the measured round trip (<see cref="OnDirectAck"/>), and the coordinate that follows it from
/// the probed member's address updates our Vivaldi client and is kept as that member's latest.
/// <para>
/// State: one coordinate per known member (a row of a flat side table keyed by name, bounded by
/// the member table: only members we know are stored, and a member's row goes when it is reaped)
/// and the Vivaldi client's per-peer latency filter (forgotten with it). The client draws from its own
/// generator (seeded from the node's name and generation), so keeping coordinates never changes
/// the node's other random draws.
/// </para>
/// </summary>
internal sealed class CoordinatesModule : GossipModule, IMessageHandler<CoordinateParts>, ILatencyRows
{
    private readonly IModuleContext _node;
    private readonly bool _enabled;
    private readonly VivaldiClient _vivaldi;
    // Per member: [vector (Dimensionality), error, adjustment, height, the Vivaldi client's latency
    // filter as ints], one flat table (no coordinate object per member). The client's latency rows
    // share the coordinate rows' name index (ILatencyRows): a member gets both from the same probe,
    // and one index and name slot for both saves ~11 bytes per probed member (session 33).
    private readonly NameRows<double> _coordinates;
    private readonly int _dimensions;
    private readonly int _latencyInts;
    private PendingAck _pending;

    public CoordinatesModule(IModuleContext node)
    {
        _node = node;
        _enabled = node.Options.NetworkCoordinates;
        Xoshiro256StarStar random = new(Seed(node.Self.Name, node.Self.Generation));
        _dimensions = node.Options.Vivaldi.Dimensionality;
        _latencyInts = node.Options.Vivaldi.LatencyFilterSize + 1;
        _coordinates = new NameRows<double>(_dimensions + 3 + ((_latencyInts + 1) / 2));
        _vivaldi = new VivaldiClient(node.Options.Vivaldi, random.NextDouble, this);
        node.Handle<CoordinateParts>(this); // also when off: decoded (bounds checked) and ignored
    }

    /// <summary>True when this node keeps coordinates and sends its own in acks.</summary>
    public bool Enabled => _enabled;

    /// <summary>This node's coordinate (the origin until a probe's round trip moved it).</summary>
    public NetworkCoordinate Coordinate => _vivaldi.Coordinate;

    /// <summary>How many times our coordinate became invalid and was reset to the origin.</summary>
    public int Resets => _vivaldi.Resets;

    /// <summary>The latest coordinate heard from each member, this node's own included, by name.</summary>
    public IReadOnlyDictionary<string, NetworkCoordinate> All
    {
        get
        {
            Dictionary<string, NetworkCoordinate> all = new(StringComparer.Ordinal);
            foreach (string name in _coordinates.Names)
            {
                all[name] = Stored(name)!;
            }

            if (_enabled)
            {
                all[_node.Self.Name] = _vivaldi.Coordinate;
            }

            return all;
        }
    }

    /// <summary>The coordinate of <paramref name="name"/> (ours for our own name), or null when none is known.</summary>
    public NetworkCoordinate? Get(string name)
    {
        if (!_enabled)
        {
            return null;
        }

        return name == _node.Self.Name ? _vivaldi.Coordinate : Stored(name);
    }

    /// <summary>
    /// The estimated round trip from this node to <paramref name="member"/>, or null when its
    /// coordinate is unknown or not comparable with ours.
    /// </summary>
    public TimeSpan? EstimateTo(string member) =>
        _enabled && Stored(member) is { } other && other.IsCompatibleWith(_vivaldi.Coordinate)
            ? _vivaldi.Coordinate.DistanceTo(other)
            : null;

    /// <summary>The ack for <paramref name="sequence"/> and, when enabled, our coordinate after it, into the started packet.</summary>
    public void AddAck(PacketBuilder builder, uint sequence)
    {
        if (!builder.TryAdd(new AckMessage(sequence)))
        {
            throw new InvalidOperationException("An ack does not fit the packet budget.");
        }

        if (_enabled)
        {
            Span<byte> message = stackalloc byte[CoordinateMessage.TypeAndPayloadMaxBytes];
            _ = builder.TryAddEncoded(message[.._vivaldi.EncodeCoordinateMessage(sequence, message)]); // left out if the budget is tiny
        }
    }

    /// <summary>The kernel measured <paramref name="rtt"/> to <paramref name="target"/> by the direct ack of probe <paramref name="sequence"/>.</summary>
    public void OnDirectAck(Member target, uint sequence, TimeSpan rtt, TimeSpan now)
    {
        if (_enabled)
        {
            _pending = new PendingAck(target.Name, target.Address, sequence, rtt, now);
        }
    }

    int ILatencyRows.Count
    {
        get
        {
            int count = 0;
            foreach (string name in _coordinates.Names)
            {
                count += _coordinates.TryGet(name, out int slot) && LatencyPart(slot)[0] > 0 ? 1 : 0;
            }

            return count;
        }
    }

    Span<int> ILatencyRows.GetOrAdd(string peer) => LatencyPart(_coordinates.GetOrAdd(peer));

    void ILatencyRows.Forget(string peer)
    {
        // The coordinate stays (a restarted member's last one is still our best estimate); only the samples go.
        if (_coordinates.TryGet(peer, out int slot))
        {
            LatencyPart(slot).Clear();
        }
    }

    /// <summary>The latency filter's ints at the end of a coordinate row.</summary>
    private Span<int> LatencyPart(int slot) => MemoryMarshal.Cast<double, int>(_coordinates.Row(slot)[(_dimensions + 3)..])[.._latencyInts];

    public override void OnMemberReaped(Member member, TimeSpan now)
    {
        _coordinates.Remove(member.Name);
        _vivaldi.Forget(member.Name);
    }

    public override void OnMemberRestarted(Member member, TimeSpan now)
    {
        // A new process may run elsewhere: its old samples would only slow the filter down.
        _vivaldi.Forget(member.Name);
    }

    void IMessageHandler<CoordinateParts>.Handle(NodeAddress from, in CoordinateParts message, TimeSpan now) => HandleCoordinate(from, message, now);

    private void HandleCoordinate(NodeAddress from, in CoordinateParts message, TimeSpan now)
    {
        // Only the coordinate in the same packet as our probe's direct ack, from the probed address.
        if (!_enabled)
        {
            return;
        }

        PendingAck pending = _pending;
        _pending = default;
        if (pending.Name is null || pending.Sequence != message.Sequence || pending.Address != from || pending.At != now)
        {
            return; // an ack to someone else's relayed ping, or a stray: nothing measured for it
        }

        if (_node.FindMember(pending.Name) is not { IsLocal: false } member || !_vivaldi.Update(member.Name, message.Vec, message.Error, message.Adjustment, message.Height, pending.RoundTrip))
        {
            _node.Counters.CoordinatesRejected++;
            return;
        }

        // Update refused any coordinate of another dimensionality, so the row fits.
        Span<double> row = _coordinates.Row(_coordinates.GetOrAdd(member.Name));
        message.Vec.CopyTo(row);
        row[_dimensions] = message.Error;
        row[_dimensions + 1] = message.Adjustment;
        row[_dimensions + 2] = message.Height;
        _node.Counters.CoordinateUpdates++;
    }

    /// <summary>The coordinate kept for <paramref name="name"/>, rebuilt from its row, or null.</summary>
    private NetworkCoordinate? Stored(string name)
    {
        if (!_coordinates.TryGet(name, out int slot))
        {
            return null;
        }

        Span<double> row = _coordinates.Row(slot);
        return new NetworkCoordinate(row[.._dimensions].ToArray(), row[_dimensions], row[_dimensions + 1], row[_dimensions + 2], owned: true);
    }

    // FNV-1a 64 of the name (string.GetHashCode is randomised per process), mixed with the generation.
    private static ulong Seed(string name, ulong generation) =>
        StableHash.Fnv1a(name) ^ (generation * 0x9E3779B97F4A7C15UL) ^ 0xC00D;

    private readonly record struct PendingAck(string? Name, NodeAddress Address, uint Sequence, TimeSpan RoundTrip, TimeSpan At);
}
