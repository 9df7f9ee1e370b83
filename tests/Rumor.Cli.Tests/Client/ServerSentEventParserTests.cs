using Rumor.Cli.Client;

namespace Rumor.Cli.Tests.Client;

public sealed class ServerSentEventParserTests
{
    [Fact]
    public void Events_are_dispatched_at_a_blank_line_with_data_lines_joined()
    {
        List<ServerSentEvent> events = Parse("event: kv", "id: 7", "data: {\"a\":", "data:1}", "", "data: plain", "");

        Assert.Equal([new ServerSentEvent("kv", "{\"a\":\n1}", "7"), new ServerSentEvent("message", "plain", "7")], events);
    }

    [Fact]
    public void Comments_and_events_without_data_are_not_dispatched()
    {
        List<ServerSentEvent> events = Parse(": ping", "", "event: member", "", "retry: 100", "");

        Assert.Empty(events);
    }

    [Fact]
    public void Only_one_leading_space_is_dropped_and_a_field_without_colon_is_empty()
    {
        List<ServerSentEvent> events = Parse("data:  two spaces", "data", "");

        Assert.Equal(" two spaces\n", events.Single().Data);
    }

    [Fact]
    public void An_event_cut_off_by_the_end_of_the_stream_is_discarded()
    {
        List<ServerSentEvent> events = Parse("event: member", "data: {}");

        Assert.Empty(events);
    }

    [Fact]
    public void The_event_type_does_not_carry_over_to_the_next_event()
    {
        List<ServerSentEvent> events = Parse("event: user", "data: 1", "", "data: 2", "");

        Assert.Equal(["user", "message"], events.Select(e => e.Type));
    }

    private static List<ServerSentEvent> Parse(params string[] lines)
    {
        ServerSentEventParser parser = new();
        List<ServerSentEvent> events = [];
        foreach (string line in lines)
        {
            if (parser.Feed(line) is { } e)
            {
                events.Add(e);
            }
        }

        return events;
    }
}
