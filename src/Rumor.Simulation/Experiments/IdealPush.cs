using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>
/// The textbook model to compare against: synchronous rounds in which every informed node pushes
/// the rumor to <c>fanout</c> peers drawn uniformly at random (forever, no damping). Monte-Carlo,
/// seeded. For fanout 3 the mean number of rounds to inform everyone is about 8.2 at N = 1,000 and
/// 10.6 at N = 10,000.
/// </summary>
public static class IdealPush
{
    /// <summary>Rounds until all <paramref name="n"/> nodes are informed, for each of <paramref name="trials"/> runs.</summary>
    public static int[] Rounds(int n, int fanout, int trials, ulong seed)
    {
        Xoshiro256StarStar random = new(seed);
        int[] result = new int[trials];
        bool[] informed = new bool[n];
        int[] frontier = new int[n];
        for (int t = 0; t < trials; t++)
        {
            Array.Clear(informed);
            int origin = random.NextInt(n);
            informed[origin] = true;
            frontier[0] = origin;
            int count = 1;
            int rounds = 0;
            while (count < n)
            {
                rounds++;
                int informedAtStart = count;
                for (int i = 0; i < informedAtStart; i++)
                {
                    for (int f = 0; f < fanout; f++)
                    {
                        int peer = random.NextInt(n - 1);
                        if (peer >= frontier[i])
                        {
                            peer++; // never push to yourself
                        }

                        if (!informed[peer])
                        {
                            informed[peer] = true;
                            frontier[count++] = peer;
                        }
                    }
                }
            }

            result[t] = rounds;
        }

        return result;
    }
}
