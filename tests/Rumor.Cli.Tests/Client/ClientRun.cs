using System.Text.Json.Nodes;
using Rumor.Cli.Client;

namespace Rumor.Cli.Tests.Client;

/// <summary>Runs <c>rumor ...</c> in-process with a test's environment: no RUMOR_AGENT unless given, stdin from bytes, a fixed clock.</summary>
internal static class ClientRun
{
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static async Task<(int Code, string Output, string Error)> RunAsync(string[] args, byte[]? stdin = null, Dictionary<string, string>? variables = null, TimeSpan? requestTimeout = null, CancellationToken stop = default)
    {
        using ConcurrentWriter output = new();
        using ConcurrentWriter error = new();
        ClientEnvironment environment = new(
            name => variables is not null && variables.TryGetValue(name, out string? value) ? value : null,
            () => new MemoryStream(stdin ?? []),
            requestTimeout ?? TimeSpan.FromSeconds(10),
            new FixedClock(Now));
        int code = await RumorCommand.RunAsync(args, output, error, environment, stop);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Asserts two JSON texts are the same document (property order and spacing aside).</summary>
    public static void SameJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected JSON {expected}\nactual {actual}");
}
