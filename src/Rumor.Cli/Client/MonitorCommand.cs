namespace Rumor.Cli.Client;

/// <summary><c>rumor monitor [--kinds member,event,kv]</c>: the agent's stream of everything that happens (<c>GET /v1/stream</c>).</summary>
internal static class MonitorCommand
{
    private static readonly string[] Kinds = ["member", "event", "kv"];

    public static readonly ClientCommand Command = new(
        "monitor",
        "Prints what happens in the cluster as the agent sees it, one line each, until Ctrl+C (exit 0): membership changes, user events, key changes. With --json, one JSON object per line.",
        () => [CliOptions.Text("--kinds", "member,event,kv", "Only these kinds (comma-separated; default all).").Completing(Kinds)],
        RunAsync);

    private static Task<int> RunAsync(ClientContext context)
    {
        string? kinds = null;
        if (context.Args.Get("kinds") is { } text)
        {
            string[] requested = [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => k.ToLowerInvariant())];
            string? unknown = requested.FirstOrDefault(k => !Kinds.Contains(k));
            if (requested.Length == 0 || unknown is not null)
            {
                throw new UsageException($"--kinds: '{unknown ?? text}' is not a kind: expected a comma-separated list of member, event and kv.");
            }

            kinds = string.Join(",", requested.Distinct());
        }

        return StreamPrinter.RunAsync(context, stop => context.Agent.StreamAsync(kinds?.Split(','), stop), item => item);
    }
}
