using System.Globalization;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Membership;
using Rumor.Core.Randomness;

namespace Rumor.Core.Tests.AntiEntropy;

/// <summary>
/// The state round's uniform peer pick (<c>ReplicatedStateModule.SampleUniform</c>): rejection
/// draws over the member table, then a scan when the draws run out. Whichever way a pick is made,
/// it must be one of the alive members other than ourselves and the targets already chosen, each
/// as likely as the others.
/// </summary>
public sealed class StatePeerSamplingTests
{
    private static List<Member> Table(int alive, int dead, int left, int suspect)
    {
        List<Member> members = [new Member("self", NodeAddress.Parse("10.0.0.1:7946"), isLocal: true)];
        int next = 2;
        void Add(string prefix, int count, MemberState state)
        {
            for (int i = 0; i < count; i++, next++)
            {
                Member member = new($"{prefix}-{i}", NodeAddress.Parse($"10.0.{next / 250}.{(next % 250) + 2}:7946"), isLocal: false) { State = state };
                members.Add(member);
            }
        }

        Add("alive", alive, MemberState.Alive);
        Add("dead", dead, MemberState.Dead);
        Add("left", left, MemberState.Left);
        Add("suspect", suspect, MemberState.Suspect);
        return [.. members.OrderBy(m => m.Name.GetHashCode(StringComparison.Ordinal) ^ m.Address.Port)]; // any order
    }

    /// <summary>Runs <paramref name="rounds"/> picks of <paramref name="fanout"/> after a seed target; counts picks per member name.</summary>
    private static Dictionary<string, int> Pick(List<Member> members, int fanout, int rounds, ulong seed, Member? seedTarget)
    {
        Xoshiro256StarStar random = new(seed);
        Dictionary<string, int> picks = new(StringComparer.Ordinal);
        List<(NodeAddress Address, string? Name)> targets = [];
        int candidates = members.Count(m => !m.IsLocal && m.State == MemberState.Alive && m != seedTarget);
        for (int round = 0; round < rounds; round++)
        {
            targets.Clear();
            if (seedTarget is not null)
            {
                targets.Add((seedTarget.Address, null));
            }

            ReplicatedStateModule.SampleUniform(members, random, targets, fanout + targets.Count);
            int first = seedTarget is null ? 0 : 1;
            Assert.Equal(Math.Min(fanout, candidates) + first, targets.Count);
            Assert.Equal(targets.Count, targets.Select(t => t.Address).Distinct().Count());
            for (int i = first; i < targets.Count; i++)
            {
                Member member = members.Single(m => m.Address == targets[i].Address);
                Assert.Equal(member.Name, targets[i].Name);
                picks[member.Name] = picks.GetValueOrDefault(member.Name) + 1;
            }
        }

        return picks;
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Picks_are_alive_members_other_than_self_and_the_seed_each_as_likely(ulong seed)
    {
        List<Member> members = Table(alive: 20, dead: 6, left: 4, suspect: 2);
        Member seedTarget = members.First(m => m.Name == "alive-5");
        const int Rounds = 20_000, Fanout = 3;
        Dictionary<string, int> picks = Pick(members, Fanout, Rounds, seed, seedTarget);

        string[] expected = [.. Enumerable.Range(0, 20).Where(i => i != 5).Select(i => "alive-" + i.ToString(CultureInfo.InvariantCulture))];
        Assert.Equal(expected.Order(StringComparer.Ordinal), picks.Keys.Order(StringComparer.Ordinal));
        double mean = (double)Rounds * Fanout / expected.Length; // 3,158 a member; one standard deviation ~51
        Assert.All(picks, p => Assert.InRange(p.Value, mean * 0.92, mean * 1.08));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void A_table_of_mostly_dead_members_is_picked_from_by_the_scan_as_uniformly(ulong seed)
    {
        // 5 alive of 406: 2 picks need ~160 draws on average, far more than the 16 allowed, so most
        // picks come from the scan.
        List<Member> members = Table(alive: 5, dead: 300, left: 100, suspect: 0);
        const int Rounds = 10_000, Fanout = 2;
        Dictionary<string, int> picks = Pick(members, Fanout, Rounds, seed, seedTarget: null);
        Assert.Equal(5, picks.Count);
        Assert.All(picks, p => Assert.StartsWith("alive-", p.Key, StringComparison.Ordinal));
        double mean = (double)Rounds * Fanout / 5; // 4,000; one standard deviation ~49
        Assert.All(picks, p => Assert.InRange(p.Value, mean * 0.94, mean * 1.06));
    }

    [Fact]
    public void Fewer_candidates_than_the_fanout_are_all_picked_and_none_is_left_out()
    {
        List<Member> members = Table(alive: 2, dead: 50, left: 0, suspect: 3);
        Dictionary<string, int> picks = Pick(members, fanout: 3, rounds: 200, seed: 9, seedTarget: null);
        Assert.Equal(new Dictionary<string, int>(StringComparer.Ordinal) { ["alive-0"] = 200, ["alive-1"] = 200 }, picks);

        List<Member> alone = Table(alive: 0, dead: 3, left: 1, suspect: 1);
        Assert.Empty(Pick(alone, fanout: 3, rounds: 10, seed: 9, seedTarget: null));
    }
}
