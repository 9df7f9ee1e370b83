using Rumor.Core.Events;

namespace Rumor.Core.Tests.Events;

public class LamportClockTests
{
    [Fact]
    public void Sending_ticks_and_receiving_moves_past_the_received_time()
    {
        LamportClock clock = new();
        Assert.Equal(0ul, clock.Time);
        Assert.Equal(1ul, clock.Tick());
        Assert.Equal(2ul, clock.Tick());
        Assert.Equal(11ul, clock.Witness(10)); // max(2, 10) + 1
        Assert.Equal(12ul, clock.Witness(3)); // max(11, 3) + 1
        Assert.Equal(13ul, clock.Tick());
    }

    [Fact]
    public void A_hostile_time_does_not_wrap_the_clock()
    {
        LamportClock clock = new();
        Assert.Equal(ulong.MaxValue, clock.Witness(ulong.MaxValue));
        Assert.Equal(ulong.MaxValue, clock.Witness(5));
    }

    [Fact]
    public void Lamport_order_is_total_time_then_origin_generation_sequence()
    {
        UserEvent a = new(new EventId("b", 1, 1), "x", [], 5, false);
        UserEvent b = new(new EventId("a", 1, 2), "x", [], 5, false);
        UserEvent c = new(new EventId("a", 1, 1), "x", [], 5, false);
        UserEvent d = new(new EventId("z", 1, 1), "x", [], 4, false);
        List<UserEvent> events = [a, b, c, d];
        events.Sort(UserEvent.LamportOrder);
        Assert.Equal([d, c, b, a], events);
    }
}
