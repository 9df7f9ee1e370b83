using Rumor.Core.Coordinates;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// Network coordinates as Serf's ping delegate keeps them (serf-wire.md 4.7): every ack this node
// sends carries its coordinate; every direct ack it receives within the probe timeout updates its
// Vivaldi client with the measured round trip and caches the peer's coordinate. The cache holds
// only members (bounded by MembersMax) and keeps a member's last coordinate after it goes, as Serf
// keeps it until the member is reaped.
public sealed partial class SerfNode
{
    private readonly VivaldiClient _vivaldi;
    private readonly Dictionary<string, NetworkCoordinate> _coordinates = new(StringComparer.Ordinal);

    /// <summary>This node's network coordinate.</summary>
    public NetworkCoordinate Coordinate
    {
        get
        {
            lock (_gate)
            {
                return _vivaldi.Coordinate;
            }
        }
    }

    /// <summary>The last coordinate heard from each member (this node's own included), by name.</summary>
    public IReadOnlyDictionary<string, NetworkCoordinate> Coordinates
    {
        get
        {
            lock (_gate)
            {
                Dictionary<string, NetworkCoordinate> all = new(_coordinates, StringComparer.Ordinal)
                {
                    [_self.Name] = _vivaldi.Coordinate,
                };
                return all;
            }
        }
    }

    /// <summary>The coordinate of <paramref name="name"/> (this node's own for its own name), or null when none was heard.</summary>
    public NetworkCoordinate? GetCoordinate(string name)
    {
        lock (_gate)
        {
            return name == _self.Name ? _vivaldi.Coordinate : _coordinates.GetValueOrDefault(name);
        }
    }

    // Serf's NotifyPingComplete: an empty payload is fine (not every memberlist user sends one);
    // anything else that does not decode to a usable coordinate is counted and ignored.
    private void ObserveRoundTrip(string node, byte[]? payload, TimeSpan rtt)
    {
        if (payload is not { Length: > 0 } || !_peers.ContainsKey(node))
        {
            return;
        }

        if (!CoordinatePayload.TryDecode(payload, out NetworkCoordinate? coordinate) || !_vivaldi.Update(node, coordinate!, rtt))
        {
            Counters.CoordinatesRejected++;
            return;
        }

        _coordinates[node] = coordinate!;
    }
}
