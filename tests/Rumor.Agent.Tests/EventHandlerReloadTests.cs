using Rumor.Agent.EventHandlers;

namespace Rumor.Agent.Tests;

/// <summary>
/// Issue 13 item 5: the event handlers' bounds change at run time (what a SIGHUP reload calls),
/// not only at the next start.
/// </summary>
public sealed class EventHandlerReloadTests
{
    [Fact]
    public async Task A_shorter_timeout_set_at_run_time_kills_the_next_slow_handler()
    {
        await using RumorAgent a = await Agents.StartAsync("reload-a");
        List<string> lines = [];
        a.EventHandlers.Logged += (level, message) =>
        {
            lock (lines)
            {
                lines.Add(message);
            }
        };
        a.EventHandlers.SetHandlers([EventHandlerSpec.Parse("member-join=sleep 20")]);

        // Started with the default 30 s; the reload's 0.5 s must hold for the run b's join starts.
        Assert.Equal(TimeSpan.FromSeconds(30), a.EventHandlers.Options.Timeout);
        a.EventHandlers.SetOptions(new EventHandlerOptions(TimeSpan.FromMilliseconds(500), 2, 16));
        Assert.Equal(new EventHandlerOptions(TimeSpan.FromMilliseconds(500), 2, 16), a.EventHandlers.Options);

        await using RumorAgent b = await Agents.StartAsync("reload-b", seed: a);
        using CancellationTokenSource bound = new(TimeSpan.FromSeconds(15));
        while (!Killed())
        {
            await Task.Delay(100, bound.Token);
        }

        bool Killed()
        {
            lock (lines)
            {
                return lines.Any(l => l.Contains("for member-join ran longer than 0.5 s (EventHandlerTimeout) and was killed", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task Fewer_slots_set_at_run_time_queue_the_runs_past_them()
    {
        await using RumorAgent a = await Agents.StartAsync("slots-a");
        a.EventHandlers.SetHandlers([EventHandlerSpec.Parse("member-join=sleep 20"), EventHandlerSpec.Parse("member-join=sleep 20")]);

        // Started with 4 slots; with 1, b's join starts one script and the other waits in the queue.
        a.EventHandlers.SetOptions(new EventHandlerOptions(TimeSpan.FromSeconds(30), 1, 16));
        await using RumorAgent b = await Agents.StartAsync("slots-b", seed: a);
        using CancellationTokenSource bound = new(TimeSpan.FromSeconds(15));
        while (a.EventHandlers.Started < 1)
        {
            await Task.Delay(100, bound.Token);
        }

        // Give a second script time it would need to start, were there two slots.
        await Task.Delay(1_000, bound.Token);
        Assert.Equal(1, a.EventHandlers.Started);
        Assert.Equal(0, a.EventHandlers.Dropped);
    }
}
