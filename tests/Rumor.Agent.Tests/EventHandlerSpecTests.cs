using Rumor.Agent.EventHandlers;

namespace Rumor.Agent.Tests;

/// <summary><c>--event-handler [FILTER=]SCRIPT</c> as Serf reads it, and its configuration keys.</summary>
public sealed class EventHandlerSpecTests
{
    [Theory]
    [InlineData("./all.sh", "", "./all.sh")]
    [InlineData("member-join,member-leave=./members.sh", "member-join,member-leave", "./members.sh")]
    [InlineData("user:deploy=./deploy.sh --now", "user:deploy", "./deploy.sh --now")]
    [InlineData("query:load=uptime", "query:load", "uptime")]
    [InlineData("*=./any.sh", "", "./any.sh")]
    [InlineData("FOO=1 ./x.sh", "", "FOO=1 ./x.sh")]
    [InlineData("echo a=b", "", "echo a=b")]
    public void Filters_and_scripts_are_read_as_Serf_reads_them(string text, string filters, string script)
    {
        EventHandlerSpec spec = EventHandlerSpec.Parse(text);

        Assert.Equal(filters, string.Join(',', spec.Filters));
        Assert.Equal(script, spec.Script);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("member-jion=./x.sh", "unknown filter 'member-jion'")]
    [InlineData("user:=./x.sh", "filter 'user:' names no user")]
    [InlineData("member-join=", "names no script")]
    public void A_bad_handler_names_the_mistake(string text, string problem)
    {
        FormatException e = Assert.Throws<FormatException>(() => EventHandlerSpec.Parse(text));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Matching_follows_the_filters()
    {
        EventHandlerSpec members = EventHandlerSpec.Parse("member-join,member-failed=./m.sh");
        EventHandlerSpec deploys = EventHandlerSpec.Parse("user:deploy,query=./d.sh");
        EventHandlerSpec all = EventHandlerSpec.Parse("./all.sh");

        Assert.True(members.Matches("member-join", null));
        Assert.True(members.Matches("member-failed", null));
        Assert.False(members.Matches("member-leave", null));
        Assert.False(members.Matches("user", "deploy"));
        Assert.True(deploys.Matches("user", "deploy"));
        Assert.False(deploys.Matches("user", "restart"));
        Assert.True(deploys.Matches("query", "anything"));
        Assert.True(all.Matches("member-update", null));
        Assert.True(all.Matches("query", "x"));
    }

    [Fact]
    public void Handlers_and_their_bounds_load_from_the_configuration_layers_and_bad_values_are_named()
    {
        Dictionary<string, string> environment = new()
        {
            ["RUMOR_EVENTHANDLERS"] = "ignored=because flags win",
            ["RUMOR_EVENTHANDLERTIMEOUT"] = "5s",
            ["RUMOR_EVENTHANDLERCONCURRENCY"] = "2",
        };
        Dictionary<string, string?> flags = new() { ["EventHandlers:0"] = "member-join=./a.sh", ["EventHandlers:1"] = "query:x=./b.sh" };

        AgentSettings settings = AgentConfiguration.Load(null, flags, [], environment);

        Assert.Equal(["member-join=./a.sh", "query:x=./b.sh"], settings.EventHandlers.Select(h => h.Text));
        Assert.Equal(TimeSpan.FromSeconds(5), settings.EventHandlerOptions.Timeout);
        Assert.Equal(2, settings.EventHandlerOptions.Concurrency);
        Assert.Equal(EventHandlerOptions.Default.QueueMax, settings.EventHandlerOptions.QueueMax);

        AgentConfigurationException badFilter = Assert.Throws<AgentConfigurationException>(() =>
            AgentConfiguration.Load(null, new Dictionary<string, string?> { ["EventHandlers:0"] = "member-gone=./x.sh" }, [], new Dictionary<string, string>()));
        Assert.Contains("unknown filter 'member-gone'", badFilter.Message, StringComparison.Ordinal);
        AgentConfigurationException badConcurrency = Assert.Throws<AgentConfigurationException>(() =>
            AgentConfiguration.Load(null, new Dictionary<string, string?> { ["EventHandlerConcurrency"] = "0" }, [], new Dictionary<string, string>()));
        Assert.Contains("EventHandlerConcurrency is '0'", badConcurrency.Message, StringComparison.Ordinal);
    }
}
