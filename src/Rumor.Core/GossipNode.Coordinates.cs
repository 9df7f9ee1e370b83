using Rumor.Core.Coordinates;
using Rumor.Core.Membership;

namespace Rumor.Core;

/// <summary>
/// Network coordinates on the node (the state is in <see cref="CoordinatesModule"/>) and
/// proximity-weighted gossip peer selection (<see cref="GossipOptions.ProximityGossip"/>).
/// </summary>
public sealed partial class GossipNode
{
    /// <summary>This node's Vivaldi coordinate, or null when <see cref="GossipOptions.NetworkCoordinates"/> is off.</summary>
    public NetworkCoordinate? Coordinate => _modules.Coordinates.Enabled ? _modules.Coordinates.Coordinate : null;

    /// <summary>The latest coordinate heard from each member (this node's own included), by name; empty when coordinates are off.</summary>
    public IReadOnlyDictionary<string, NetworkCoordinate> Coordinates => _modules.Coordinates.All;

    /// <summary>The coordinate of <paramref name="name"/> (ours for our own name), or null when none is known.</summary>
    public NetworkCoordinate? GetCoordinate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _modules.Coordinates.Get(name);
    }

    /// <summary>
    /// The estimated round trip between members <paramref name="a"/> and <paramref name="b"/>
    /// (either may be this node), or null when a coordinate is missing or they are not comparable.
    /// </summary>
    public TimeSpan? EstimateRoundTrip(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return GetCoordinate(a) is { } first && GetCoordinate(b) is { } second && first.IsCompatibleWith(second) ? first.DistanceTo(second) : null;
    }

    /// <summary>
    /// Up to <paramref name="count"/> distinct member indices for gossip, weighted by proximity: each
    /// pick is, with probability ProximityUniformShare, a uniform one (SampleMembers' draw), else the
    /// nearest by estimated round trip of ProximityCandidates uniform candidates (a member without a
    /// coordinate counts as farthest; ties keep the first drawn). Bounded: at most
    /// 3 × count picks of at most ProximityCandidates SampleMembers draws each.
    /// </summary>
    private int SampleNearMembers(Span<int> chosen, int count, Func<Member, bool> filter)
    {
        int found = 0;
        if (_members.Count <= 1 || count <= 0)
        {
            return 0;
        }

        Span<int> one = stackalloc int[1];
        for (int attempt = 0; attempt < 3 * count && found < count; attempt++)
        {
            bool uniform = _random.NextDouble() < _options.ProximityUniformShare;
            int candidates = uniform ? 1 : _options.ProximityCandidates;
            int best = -1;
            TimeSpan bestDistance = TimeSpan.MaxValue;
            for (int c = 0; c < candidates; c++)
            {
                if (SampleMembers(one, 1, filter) == 0)
                {
                    return found; // nobody passes the filter
                }

                if (chosen[..found].Contains(one[0]))
                {
                    continue;
                }

                TimeSpan distance = _modules.Coordinates.EstimateTo(_members[one[0]].Name) ?? TimeSpan.MaxValue;
                if (best < 0 || distance < bestDistance)
                {
                    best = one[0];
                    bestDistance = distance;
                }
            }

            if (best < 0)
            {
                continue; // every candidate was already chosen: draw again (bounded by the attempts)
            }

            chosen[found++] = best;
            if (uniform)
            {
                Counters.ProximityUniformPicks++;
            }
            else
            {
                Counters.ProximityNearPicks++;
            }
        }

        return found;
    }
}
