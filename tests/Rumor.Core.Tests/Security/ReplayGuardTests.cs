using Rumor.Core.Security;

namespace Rumor.Core.Tests.Security;

public class ReplayGuardTests
{
    [Fact]
    public void A_counter_is_accepted_once_and_reordering_within_the_window_is_fine()
    {
        ReplayGuard guard = new();
        Assert.True(guard.TryAccept(1, 10));
        Assert.False(guard.TryAccept(1, 10));
        Assert.True(guard.TryAccept(1, 12));
        Assert.True(guard.TryAccept(1, 11));
        Assert.False(guard.TryAccept(1, 11));
        Assert.True(guard.TryAccept(1, 500));
        Assert.True(guard.TryAccept(1, 13));
        Assert.False(guard.TryAccept(1, 13));
        Assert.True(guard.TryAccept(2, 10)); // another sender
    }

    [Fact]
    public void A_counter_older_than_the_window_is_refused()
    {
        ReplayGuard guard = new();
        Assert.True(guard.TryAccept(1, 5000));
        Assert.False(guard.TryAccept(1, 5000 - ReplayGuard.WindowSize));
        Assert.True(guard.TryAccept(1, 5000 - ReplayGuard.WindowSize + 1));
        Assert.True(guard.TryAccept(1, 5000 + 70)); // a shift by more than one word keeps what was seen
        Assert.False(guard.TryAccept(1, 5000));
        Assert.False(guard.TryAccept(1, 5000 - ReplayGuard.WindowSize + 1));
    }

    [Fact]
    public void Streams_have_their_own_window()
    {
        ReplayGuard guard = new();
        Assert.True(guard.TryAccept(1, 3000));
        Assert.True(guard.TryAccept(1, 5 | PacketEnvelope.StreamChannelBit));
        Assert.False(guard.TryAccept(1, 5 | PacketEnvelope.StreamChannelBit));
    }

    [Fact]
    public void The_table_is_bounded_and_evictions_are_counted()
    {
        ReplayGuard guard = new();
        for (uint i = 0; i < ReplayGuard.SendersMax + 10; i++)
        {
            guard.TryAccept(i, 1);
        }

        Assert.Equal(ReplayGuard.SendersMax, guard.Count);
        Assert.Equal(10, guard.Evictions);
    }
}
