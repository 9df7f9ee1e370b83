using Rumor.Core.Wire;
using Rumor.Fuzz;

namespace Rumor.Transport.Tests;

/// <summary>
/// The fuzz corpus replayed in-process (no afl++ needed): every target's seeds and every input a fuzz
/// run saved as a crash or hang (fuzz/findings/TARGET/*) must run through its target without an
/// exception. scripts/fuzz.sh runs the same targets under afl-fuzz.
/// </summary>
public class FuzzCorpusTests
{
    private static readonly string FindingsDirectory = Path.Combine(AppContext.BaseDirectory, "fuzz-findings");

    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Keys];

    [Fact]
    public void Every_seed_is_a_valid_packet_whose_messages_all_decode()
    {
        IReadOnlyList<byte[]> seeds = FuzzSeeds.Packets();
        Assert.True(seeds.Count >= 17);
        foreach (byte[] seed in seeds)
        {
            Assert.Equal(DecodeError.None, PacketReader.TryOpen(seed, WireLimits.DatagramMaxBytes, out PacketReader reader));
            while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
            {
                Assert.True(known);
                Assert.Equal(DecodeError.None, FuzzTargets.Decode(type, payload, null));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_seed_and_its_single_byte_mutations_run_through_the_target(string target)
    {
        FuzzTarget run = FuzzTargets.All[target];
        int runs = 0;
        foreach (byte[] seed in FuzzSeeds.For(target))
        {
            run(seed);
            runs++;
            // Each byte flipped in turn, and each prefix: a small deterministic sweep around the seed.
            for (int i = 0; i < seed.Length; i += 3)
            {
                byte[] mutated = (byte[])seed.Clone();
                mutated[i] ^= 0xFF;
                run(mutated);
                run(seed.AsSpan(0, i));
                runs += 2;
            }
        }

        Assert.True(runs > 10, $"{target}: {runs} runs");
    }

    [Fact]
    public void Every_saved_finding_runs_through_its_target()
    {
        // The README is copied with the findings: its presence proves the files reach the test output.
        Assert.True(File.Exists(Path.Combine(FindingsDirectory, "README.md")), $"{FindingsDirectory} holds no README.md: fuzz/findings is not copied");
        foreach (string file in Directory.EnumerateFiles(FindingsDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string target = Path.GetFileName(Path.GetDirectoryName(file)!);
            if (target != "fuzz-findings")
            {
                Assert.True(FuzzTargets.All.TryGetValue(target, out FuzzTarget? run), $"{file}: no target named {target}");
                run(File.ReadAllBytes(file));
            }
        }
    }
}
