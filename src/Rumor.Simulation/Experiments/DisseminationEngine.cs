using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>
/// The compact dissemination engine of <c>rumor simulate --mode dissemination</c>, for N up to
/// 10^6 and beyond: every node shares one read-only membership (the indices 0..N−1), there are no
/// per-node objects, only a few arrays (about 9 bytes per node), and one seeded
/// <see cref="Xoshiro256StarStar"/>. Rounds are synchronous: what a node learns in round r it
/// forwards from round r + 1, the model of the published ideals.
/// <para>
/// This engine does not run <see cref="Core.Dissemination.BroadcastQueue"/> itself (a SortedSet and a
/// Dictionary per node would cost about a kilobyte each, and time, at 10^6); it implements the same
/// rules for one rumor:
/// </para>
/// <list type="bullet">
/// <item><b>push</b> (rumor mongering): every round an informed node sends the rumor to
/// <c>fanout</c> peers drawn uniformly from the others, one transmission per peer, until it has
/// sent it <c>RetransmitMultiplier × ceil(log10(N + 1))</c> times, then retires it (the real
/// queue's transmit limit; it also stops mid-round when the limit is reached, as
/// <c>GossipRound</c> stops when the queue empties). With an unlimited budget this is the
/// textbook "push until everyone" ideal. A damped push can die out and leave residue.</item>
/// <item><b>pull</b>: every round each uninformed node asks <c>fanout</c> random peers; a peer that
/// holds the rumor answers with it (anti-entropy: no budget).</item>
/// <item><b>push-pull</b>: every round every node contacts <c>fanout</c> random peers and they
/// exchange what they hold, both ways (anti-entropy: no budget).</item>
/// </list>
/// Loss drops each message independently (a pull needs its request and its answer). A partition
/// drops messages across the cut. Churn crashes nodes (a crashed node neither sends nor receives,
/// and comes back with fresh state). The cross-check against the real queue's engine
/// (<see cref="BroadcastSpread.DisseminationOnly"/>, in-phase rounds) is a test.
/// </summary>
public sealed class DisseminationEngine
{
    private const int Never = int.MaxValue;

    private readonly SpreadSettings _settings;
    private readonly int _n;
    private readonly int[] _informedAt;
    private readonly ushort[] _sent;
    private readonly int[]? _downUntil;
    private readonly int _limit;
    private readonly int _cutFrom;
    private readonly bool _undamped;

    /// <summary>Allocates the arrays for <paramref name="settings"/>.Nodes nodes.</summary>
    /// <param name="settings">What to run; validated.</param>
    /// <param name="undamped">True for the ideal: push never retires the rumor.</param>
    public DisseminationEngine(SpreadSettings settings, bool undamped = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        IReadOnlyList<string> problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(settings));
        }

        _settings = settings;
        _n = settings.Nodes;
        _informedAt = new int[_n];
        _sent = new ushort[_n];
        _downUntil = settings.Churn is null ? null : new int[_n];
        _undamped = undamped;
        _limit = undamped ? int.MaxValue : Math.Min(settings.TransmitLimit, ushort.MaxValue);
        _cutFrom = settings.Partition is { } p ? _n - p.CutCount(_n) : _n;
    }

    /// <summary>Runs <see cref="SpreadSettings.Trials"/> spreads from random origins, seeded by <see cref="SpreadSettings.Seed"/>, on every core.</summary>
    /// <param name="cancel">Checked every round.</param>
    public IReadOnlyList<SpreadTrial> Run(CancellationToken cancel = default) => Run(Environment.ProcessorCount, cancel);

    /// <summary>
    /// Runs <see cref="SpreadSettings.Trials"/> spreads from random origins on up to
    /// <paramref name="parallelism"/> threads. Trial t draws only from the t-th fork of the
    /// generator seeded by <see cref="SpreadSettings.Seed"/> (the forks are taken in order before any
    /// trial runs) and every worker has its own arrays, so the trials, and their order in the
    /// result, are the same for every degree of parallelism.
    /// </summary>
    /// <param name="parallelism">Threads at most (1: one after another on this thread).</param>
    /// <param name="cancel">Checked every round.</param>
    public IReadOnlyList<SpreadTrial> Run(int parallelism, CancellationToken cancel = default)
    {
        Xoshiro256StarStar random = new(_settings.Seed);
        Xoshiro256StarStar[] forks = new Xoshiro256StarStar[_settings.Trials];
        for (int t = 0; t < forks.Length; t++)
        {
            forks[t] = random.Fork();
        }

        SpreadTrial[] trials = new SpreadTrial[forks.Length];
        TrialWorkers.Run(forks.Length, parallelism, worker =>
        {
            DisseminationEngine engine = worker == 0 ? this : new DisseminationEngine(_settings, _undamped);
            return t => trials[t] = engine.Spread(forks[t], cancel);
        });
        return trials;
    }

    /// <summary>The ideal for <paramref name="settings"/>: the same strategy and fanout, synchronous rounds, no damping, no loss, no partition, no churn.</summary>
    public static IReadOnlyList<SpreadTrial> Ideal(SpreadSettings settings, int trials, ulong seed, CancellationToken cancel = default) =>
        Ideal(settings, trials, seed, Environment.ProcessorCount, cancel);

    /// <summary>The ideal on up to <paramref name="parallelism"/> threads (the same trials for every degree).</summary>
    public static IReadOnlyList<SpreadTrial> Ideal(SpreadSettings settings, int trials, ulong seed, int parallelism, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        SpreadSettings ideal = settings with { Loss = 0, Partition = null, Churn = null, Trials = trials, Seed = seed };
        return new DisseminationEngine(ideal, undamped: true).Run(parallelism, cancel);
    }

    /// <summary>One spread from a random origin.</summary>
    private SpreadTrial Spread(Xoshiro256StarStar random, CancellationToken cancel)
    {
        Array.Fill(_informedAt, Never);
        Array.Clear(_sent);
        if (_downUntil is not null)
        {
            Array.Clear(_downUntil);
        }

        int origin = random.NextInt(_n);
        _informedAt[origin] = 0;
        int informed = 1;
        int up = _n;
        long transmissions = 0;
        List<int> perRound = [1];
        for (int round = 1; round <= _settings.MaxRounds; round++)
        {
            cancel.ThrowIfCancellationRequested();
            if (_settings.Churn is { } churn)
            {
                Churn(random, churn, round, ref informed, ref up);
            }

            bool cut = _settings.Partition?.ActiveIn(round) ?? false;
            int active = _settings.Strategy switch
            {
                GossipStrategy.Push => PushRound(random, round, cut, ref informed, ref transmissions),
                GossipStrategy.Pull => PullRound(random, round, cut, ref informed, ref transmissions),
                _ => PushPullRound(random, round, cut, ref informed, ref transmissions),
            };
            perRound.Add(informed);
            if (informed == up)
            {
                return new SpreadTrial([.. perRound], round, transmissions, 0);
            }

            if (active == 0 && (_settings.Churn is null || informed == 0))
            {
                // The damping retired the rumor everywhere before it reached everyone: it is dead.
                break;
            }
        }

        return new SpreadTrial([.. perRound], null, transmissions, up - informed);
    }

    private int PushRound(Xoshiro256StarStar random, int round, bool cut, ref int informed, ref long transmissions)
    {
        int fanout = _settings.Fanout;
        double loss = _settings.Loss;
        int active = 0;
        int before = informed;
        for (int i = 0; i < _n; i++)
        {
            if (_informedAt[i] >= round)
            {
                continue; // not informed, or informed this round: it forwards from the next round
            }

            if (_sent[i] >= _limit || IsDown(i, round))
            {
                continue;
            }

            int budget = _limit == int.MaxValue ? fanout : Math.Min(fanout, _limit - _sent[i]);
            for (int f = 0; f < budget; f++)
            {
                int peer = Peer(random, i);
                transmissions++;
                if (loss > 0 && random.NextDouble() < loss)
                {
                    continue;
                }

                if (Delivered(i, peer, cut, round) && _informedAt[peer] == Never)
                {
                    _informedAt[peer] = round;
                    informed++;
                }
            }

            if (_limit != int.MaxValue)
            {
                _sent[i] = (ushort)(_sent[i] + budget);
            }

            if (_sent[i] < _limit)
            {
                active++;
            }
        }

        // Nodes informed this round will push next round.
        return active + (informed - before);
    }

    private int PullRound(Xoshiro256StarStar random, int round, bool cut, ref int informed, ref long transmissions)
    {
        int fanout = _settings.Fanout;
        double loss = _settings.Loss;
        for (int i = 0; i < _n; i++)
        {
            // Informed nodes ask too, but learn nothing new; only the askers that can learn are drawn.
            if (_informedAt[i] != Never || IsDown(i, round))
            {
                continue;
            }

            for (int f = 0; f < fanout; f++)
            {
                int peer = Peer(random, i);
                if (loss > 0 && random.NextDouble() < loss)
                {
                    continue; // the request is lost
                }

                if (!Delivered(i, peer, cut, round) || _informedAt[peer] >= round)
                {
                    continue;
                }

                transmissions++; // the answer carries the rumor
                if (loss > 0 && random.NextDouble() < loss)
                {
                    continue; // the answer is lost
                }

                _informedAt[i] = round;
                informed++;
                break;
            }
        }

        return informed;
    }

    private int PushPullRound(Xoshiro256StarStar random, int round, bool cut, ref int informed, ref long transmissions)
    {
        int fanout = _settings.Fanout;
        double loss = _settings.Loss;
        for (int i = 0; i < _n; i++)
        {
            if (IsDown(i, round))
            {
                continue;
            }

            for (int f = 0; f < fanout; f++)
            {
                int peer = Peer(random, i);
                if (loss > 0 && random.NextDouble() < loss)
                {
                    continue; // the opening message is lost: no exchange
                }

                if (!Delivered(i, peer, cut, round))
                {
                    continue;
                }

                bool mine = _informedAt[i] < round;
                bool theirs = _informedAt[peer] < round;
                if (mine && _informedAt[peer] == Never)
                {
                    transmissions++; // pushed with the opening message
                    _informedAt[peer] = round;
                    informed++;
                }
                else if (theirs && _informedAt[i] == Never)
                {
                    transmissions++; // pulled with the answer
                    if (loss > 0 && random.NextDouble() < loss)
                    {
                        continue;
                    }

                    _informedAt[i] = round;
                    informed++;
                }
            }
        }

        return informed;
    }

    /// <summary>A peer drawn uniformly from the others (never the node itself).</summary>
    private int Peer(Xoshiro256StarStar random, int self)
    {
        int peer = random.NextInt(_n - 1);
        return peer >= self ? peer + 1 : peer;
    }

    /// <summary>Whether a message from <paramref name="from"/> reaches <paramref name="to"/>: not across a standing cut, not to a crashed node.</summary>
    private bool Delivered(int from, int to, bool cut, int round) =>
        !(cut && (from >= _cutFrom) != (to >= _cutFrom)) && !IsDown(to, round);

    private bool IsDown(int node, int round) => _downUntil is not null && _downUntil[node] > round;

    private void Churn(Xoshiro256StarStar random, ChurnPlan churn, int round, ref int informed, ref int up)
    {
        for (int i = 0; i < _n; i++)
        {
            if (_downUntil![i] == round)
            {
                up++; // back, with fresh state (it forgot the rumor when it crashed)
            }

            if (_downUntil[i] > round || !churn.CrashesIn(round) || random.NextDouble() >= churn.CrashPerRound)
            {
                continue;
            }

            _downUntil[i] = round + churn.DownRounds;
            up--;
            if (_informedAt[i] != Never)
            {
                _informedAt[i] = Never;
                informed--;
            }

            _sent[i] = 0;
        }
    }
}
