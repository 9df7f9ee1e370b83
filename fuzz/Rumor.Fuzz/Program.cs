using SharpFuzz;

namespace Rumor.Fuzz;

/// <summary>
/// <c>Rumor.Fuzz TARGET</c>: runs one target under afl-fuzz (persistent mode, input on stdin/shared memory).
/// <c>Rumor.Fuzz seed TARGET DIR</c>: writes the target's seed inputs (golden packets) into DIR.
/// <c>Rumor.Fuzz replay TARGET FILE...</c>: runs the target once per file in-process (to reproduce a finding).
/// </summary>
public static class Program
{
    /// <summary>The keys of <see cref="FuzzTargets.All"/>, kept here so choosing one runs no instrumented code.</summary>
    private static readonly string[] TargetNames = ["packet", "node", "stream", "compressed", "envelope", "serf"];

    public static int Main(string[] args)
    {
        if (args.Length == 3 && args[0] == "seed" && FuzzTargets.All.ContainsKey(args[1]))
        {
            Directory.CreateDirectory(args[2]);
            int i = 0;
            foreach (byte[] seed in FuzzSeeds.For(args[1]))
            {
                File.WriteAllBytes(Path.Combine(args[2], $"seed{i++:D3}"), seed);
            }

            Console.WriteLine($"{i} seeds written to {args[2]}");
            return 0;
        }

        if (args.Length >= 3 && args[0] == "replay" && FuzzTargets.All.TryGetValue(args[1], out FuzzTarget? replay))
        {
            foreach (string file in args.Skip(2))
            {
                replay(File.ReadAllBytes(file));
                Console.WriteLine($"ok {file}");
            }

            return 0;
        }

        if (args.Length == 1 && TargetNames.Contains(args[0]))
        {
            // Nothing instrumented may run before Fuzzer.Run has attached afl's shared memory (it
            // would write to a map that is not there): the target is looked up inside the loop.
            string name = args[0];
            FuzzTarget? target = null;
            Fuzzer.Run(stream =>
            {
                target ??= FuzzTargets.All[name];
                using MemoryStream copy = new();
                stream.CopyTo(copy);
                target(copy.GetBuffer().AsSpan(0, (int)copy.Length));
            });
            return 0;
        }

        Console.Error.WriteLine($"usage: Rumor.Fuzz TARGET | seed TARGET DIR | replay TARGET FILE...  (targets: {string.Join(", ", TargetNames)})");
        return 2;
    }
}
