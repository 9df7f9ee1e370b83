using System.Collections;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;

namespace Rumor.Hosting.Tests;

/// <summary>The shell's honesty about time, queries that wait on the node's own event, spans, typed failures and option copies.</summary>
public sealed class ShellTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Epoch = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static IHost BuildHost(string name, string? seed = null, TimeProvider? time = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        Dictionary<string, string?> settings = new()
        {
            ["Rumor:Name"] = name,
            ["Rumor:Bind"] = "127.0.0.1:0",
            ["Rumor:Preset"] = "local",
            ["Rumor:SampleInterval"] = "00:00:00.200",
            ["Rumor:LeaveTimeout"] = "00:00:02",
        };
        if (seed is not null)
        {
            settings["Rumor:Seeds:0"] = seed;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddRumor(builder.Configuration.GetSection("Rumor"));
        return builder.Build();
    }

    [Fact]
    public void CopyTo_copies_every_property_and_shares_no_collection()
    {
        RumorOptions source = new();
        RumorOptions defaults = new();
        PropertyInfo[] properties = typeof(RumorOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        foreach (PropertyInfo property in properties)
        {
            property.SetValue(source, NonDefault(property));
        }

        RumorOptions target = new();
        source.CopyTo(target);

        foreach (PropertyInfo property in properties)
        {
            object? expected = property.GetValue(source);
            object? copied = property.GetValue(target);
            Assert.False(Same(expected, property.GetValue(defaults)), $"the test's value of {property.Name} equals its default");
            Assert.True(Same(expected, copied), $"{property.Name} was not copied");
            if (expected is IEnumerable and not string)
            {
                Assert.NotSame(expected, copied);
            }
        }
    }

    private static object NonDefault(PropertyInfo property)
    {
        Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        return type == typeof(string) ? "x-" + property.Name
            : type == typeof(bool) ? property.GetValue(new RumorOptions()) is not true
            : type == typeof(int) ? 7
            : type == typeof(double) ? 0.7
            : type == typeof(ulong) ? 7UL
            : type == typeof(TimeSpan) ? TimeSpan.FromMilliseconds(7777)
            : type == typeof(FailureDetectorKind) ? FailureDetectorKind.PhiAccrual
            : type == typeof(List<string>) ? new List<string> { "127.0.0.1:7001" }
            : type == typeof(Dictionary<string, string>) ? new Dictionary<string, string>(StringComparer.Ordinal) { ["role"] = "web" }
            : throw new InvalidOperationException($"RumorOptions.{property.Name} has a type ({type}) this test does not know yet: teach NonDefault.");
    }

    private static bool Same(object? a, object? b) =>
        a is IDictionary<string, string> da && b is IDictionary<string, string> db ? da.OrderBy(p => p.Key).SequenceEqual(db.OrderBy(p => p.Key))
        : a is IEnumerable<string> la && b is IEnumerable<string> lb && a is not string ? la.SequenceEqual(lb)
        : Equals(a, b);

    [Fact]
    public async Task Calls_before_start_throw_the_typed_not_running_exception()
    {
        using IHost host = BuildHost("unstarted");
        RumorNode node = host.Services.GetRequiredService<RumorNode>();

        await Assert.ThrowsAsync<RumorNodeNotRunningException>(() => node.GetMembersAsync());
        Assert.Throws<RumorNodeNotRunningException>(() => node.Name);
    }

    [Fact]
    public async Task Wall_clock_times_come_from_the_injected_TimeProvider()
    {
        FakeTimeProvider time = new(Epoch);
        using IHost host = BuildHost("clocked", time: time);
        await host.StartAsync();
        RumorNode node = host.Services.GetRequiredService<RumorNode>();

        Assert.Same(time, node.TimeProvider);
        Assert.Equal(Epoch, node.StartedAt);
        time.Advance(TimeSpan.FromMinutes(5));
        await node.SendEventAsync("deploy", Encoding.UTF8.GetBytes("v2"));
        ReceivedUserEvent received = await EventuallyAsync(() => node.GetRecentEvents() is [var first, ..] ? first : null);
        Assert.Equal(Epoch + TimeSpan.FromMinutes(5), received.ReceivedAt);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_query_ends_on_the_nodes_completion_at_its_deadline_on_the_nodes_clock()
    {
        FakeTimeProvider time = new(Epoch);
        using IHost host = BuildHost("asker", time: time);
        await host.StartAsync();
        RumorNode node = host.Services.GetRequiredService<RumorNode>();

        // Answered by this node itself as the query starts: complete at once, no clock involved.
        QueryResult ping = await node.QueryAsync("rumor.ping", [], null, TimeSpan.FromSeconds(30)).WaitAsync(Bound);
        Assert.True(ping.Done);
        Assert.Equal("asker", Encoding.UTF8.GetString(ping.Responses.Single().Payload));

        // Nobody answers this one: it ends at the node's deadline, which only the fake clock reaches.
        Task<QueryResult> silent = node.QueryAsync("nobody.answers", [], null, TimeSpan.FromSeconds(30));
        await Task.Delay(300);
        Assert.False(silent.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(30.5));
        _ = await node.GetMembersAsync(); // wake the loop, which then finds the query's timer due
        QueryResult result = await silent.WaitAsync(Bound);

        Assert.True(result.Done);
        Assert.Equal(["asker"], result.Missing);
        await host.StopAsync();
    }

    [Fact]
    public async Task Join_query_and_leave_each_produce_a_span_of_the_Rumor_source()
    {
        List<Activity> spans = [];
        using ActivityListener listener = new()
        {
            ShouldListenTo = source => source.Name == RumorActivities.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using IHost first = BuildHost("span-a");
        await first.StartAsync();
        RumorNode a = first.Services.GetRequiredService<RumorNode>();
        using IHost second = BuildHost("span-b", a.Address.ToString());
        await second.StartAsync();
        RumorNode b = second.Services.GetRequiredService<RumorNode>();
        Assert.True((await b.FirstJoin.WaitAsync(Bound)).Joined);
        await EventuallyAsync(async () => (await a.GetMembersAsync()).Count(m => m.State == MemberState.Alive) == 2 ? "yes" : null);
        QueryResult answered = await a.QueryAsync("rumor.ping", [], null, TimeSpan.FromSeconds(10));
        await second.StopAsync();
        await first.StopAsync();

        Activity[] ours;
        lock (spans)
        {
            ours = [.. spans.Where(s => (s.GetTagItem("rumor.node") as string)?.StartsWith("span-", StringComparison.Ordinal) == true)];
        }

        Activity join = Assert.Single(ours, s => s.OperationName == "rumor.join" && (string?)s.GetTagItem("rumor.node") == "span-b");
        Assert.Equal(1, join.GetTagItem("rumor.join.succeeded"));
        Assert.Equal(ActivityStatusCode.Ok, join.Status);
        Activity query = Assert.Single(ours, s => s.OperationName == "rumor.query");
        Assert.Equal("rumor.ping", query.GetTagItem("rumor.query.name"));
        Assert.Equal(answered.Responses.Count, query.GetTagItem("rumor.query.responses"));
        Assert.Equal(2, answered.Responses.Count);
        Activity leave = Assert.Single(ours, s => s.OperationName == "rumor.leave" && (string?)s.GetTagItem("rumor.node") == "span-b");
        Assert.Equal(true, leave.GetTagItem("rumor.leave.confirmed"));
        Assert.True(leave.Duration > TimeSpan.Zero);
    }

    private static Task<T> EventuallyAsync<T>(Func<T?> probe)
        where T : class => EventuallyAsync(() => Task.FromResult(probe()));

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        using CancellationTokenSource bound = new(Bound);
        while (true)
        {
            if (await probe() is { } result)
            {
                return result;
            }

            await Task.Delay(50, bound.Token);
        }
    }
}
