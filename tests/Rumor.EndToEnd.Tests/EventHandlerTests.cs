using System.Text.Json;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Event handlers as Serf has them (<c>--event-handler [FILTER=]SCRIPT</c>), on agents started as
/// processes: a handler answers a custom query with its output, sees the event in its environment
/// and on its standard input, and a failing handler is logged with its exit code.
/// </summary>
public sealed class EventHandlerTests
{
    [Fact]
    public Task A_handler_answers_a_custom_query_sees_member_joins_and_a_failure_is_logged() => Cluster.RunAsync(async cluster =>
    {
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rumor-handlers-");
        try
        {
            string joins = Path.Combine(scratch.FullName, "joins.txt");
            string[] handlers =
            [
                "--event-handler", "query:whoami=printf '%s|%s|%s|%s' \"$RUMOR_EVENT\" \"$RUMOR_QUERY_NAME\" \"$RUMOR_SELF_NAME\" \"$(cat)\"",
                "--event-handler", $"member-join=cat >> '{joins}'; printf '%s\\n' \"$RUMOR_EVENT $RUMOR_TAG_ROLE\" >> '{joins}'",
                "--event-handler", "user:boom=echo 'handler broke' >&2; exit 3",
            ];
            AgentProcess a = await cluster.StartAgentAsync("a");
            AgentProcess b = await cluster.StartAgentAsync("b", join: a.GossipAddress, extra: ["--tag", "role=web", .. handlers]);
            AgentProcess c = await cluster.StartAgentAsync("c", join: a.GossipAddress, extra: ["--tag", "role=db"]);
            await cluster.WaitForAllAliveAsync("a", "b", "c");

            // The custom query: b answers from its handler's output; a and c have no handler and do not.
            JsonElement result = await cluster.CliJsonAsync(a, "query", "whoami", "ping-payload", "--timeout", "15s");
            JsonElement answer = Assert.Single(result.GetProperty("responses").EnumerateArray());
            Assert.Equal("b", answer.GetProperty("from").GetString());
            Assert.Equal("query|whoami|b|ping-payload", answer.GetProperty("payload").GetString());
            Assert.Equal(["a", "c"], result.GetProperty("missing").EnumerateArray().Select(m => m.GetString()!).Order(StringComparer.Ordinal).ToArray());

            // b saw c join: Serf's member line (name, address, role, tags) on stdin, the event and its own tag in the environment.
            await cluster.WaitUntilAsync("b's member-join handler to record c", Cluster.ConvergeBound, () =>
            {
                string text = File.Exists(joins) ? File.ReadAllText(joins) : string.Empty;
                return Task.FromResult(text.Contains("c\t127.0.0.1\tdb\trole=db\n", StringComparison.Ordinal) && text.Contains("member-join web\n", StringComparison.Ordinal)
                    ? null
                    : $"joins file: '{text}'");
            });

            // A failing handler: logged with its exit code and what it said, and the agent carries on.
            await cluster.CliOkAsync(a, "event", "boom", "x");
            cluster.Check(
                await b.Process.WaitForOutputAsync(o => o.Contains("exited with code 3: handler broke", StringComparison.Ordinal), Cluster.ConvergeBound),
                "b should log the failing handler with its exit code.");
            JsonElement again = await cluster.CliJsonAsync(c, "query", "whoami", "--timeout", "15s");
            Assert.Equal("query|whoami|b|", Assert.Single(again.GetProperty("responses").EnumerateArray()).GetProperty("payload").GetString());
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    });

    [Fact]
    public Task A_bad_handler_is_a_usage_error_naming_the_filter() => Cluster.RunAsync(async cluster =>
    {
        CliResult result = await cluster.CliAsync("agent", "--event-handler", "member-jion=./x.sh", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0");
        Assert.Equal(2, result.ExitCode);
        cluster.Check(result.Error.Contains("unknown filter 'member-jion'", StringComparison.Ordinal), $"the error should name the filter: {result.Error}");
    });
}
