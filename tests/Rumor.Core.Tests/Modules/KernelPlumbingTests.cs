using Rumor.Core.Modules;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Modules;

/// <summary>The kernel's plumbing for modules: one timer order across owners, one owner per message id.</summary>
public class KernelPlumbingTests
{
    [Fact]
    public void Timers_of_different_owners_fire_by_due_time_then_by_insertion()
    {
        TimerSet set = new();
        List<string> fired = [];
        TimerQueue<int> numbers = set.Create<int>((n, _) => fired.Add("n" + n));
        TimerQueue<char> letters = set.Create<char>((c, _) => fired.Add("c" + c));
        numbers.Schedule(TimeSpan.FromSeconds(2), 1);
        letters.Schedule(TimeSpan.FromSeconds(1), 'a');
        numbers.Schedule(TimeSpan.FromSeconds(1), 2);
        letters.Schedule(TimeSpan.FromSeconds(2), 'b');

        Assert.Equal(TimeSpan.FromSeconds(1), set.NextDue);
        while (set.TryFireNext(TimeSpan.FromSeconds(2)))
        {
        }

        Assert.Equal(["ca", "n2", "n1", "cb"], fired);
        Assert.Equal(TimeSpan.MaxValue, set.NextDue);
    }

    [Fact]
    public void A_timer_scheduled_while_firing_and_already_due_fires_in_the_same_tick()
    {
        TimerSet set = new();
        List<int> fired = [];
        TimerQueue<int>? queue = null;
        queue = set.Create<int>((n, now) =>
        {
            fired.Add(n);
            if (n < 3)
            {
                queue!.Schedule(now, n + 1);
            }
        });
        queue.Schedule(TimeSpan.FromSeconds(1), 1);
        queue.Schedule(TimeSpan.FromSeconds(5), 9);
        while (set.TryFireNext(TimeSpan.FromSeconds(1)))
        {
        }

        Assert.Equal([1, 2, 3], fired);
        Assert.Equal(TimeSpan.FromSeconds(5), set.NextDue);
    }

    [Fact]
    public void A_message_id_has_one_owner_and_unregistered_ids_are_malformed()
    {
        MessageTable table = new(new NameTable());
        AckRecorder recorder = new();
        table.Add<AckMessage>(recorder);
        Assert.Throws<InvalidOperationException>(() => table.Add<AckMessage>(new AckRecorder()));
        table.AddStream(MessageType.PushPull, recorder);
        Assert.Throws<InvalidOperationException>(() => table.AddStream(MessageType.PushPull, new AckRecorder()));

        byte[] payload = PacketBuilder.EncodeMessage(new AckMessage(42))[1..];
        Assert.Equal(DecodeError.None, table.Dispatch(default, MessageType.Ack, payload, TimeSpan.Zero));
        Assert.Equal([42u], recorder.Seen);
        Assert.Equal(DecodeError.Malformed, table.Dispatch(default, MessageType.Nack, payload, TimeSpan.Zero));
        Assert.Equal(DecodeError.Malformed, table.Dispatch(default, (MessageType)200, payload, TimeSpan.Zero));
        Assert.NotEqual(DecodeError.None, table.Dispatch(default, MessageType.Ack, payload.AsSpan(0, 1), TimeSpan.Zero)); // truncated: not handled
        Assert.Equal([42u], recorder.Seen);

        Assert.Same(recorder, table.StreamHandler([0, (byte)MessageType.PushPull, 0]));
        Assert.Null(table.StreamHandler([0, (byte)MessageType.StateDigest, 0]));
        Assert.Null(table.StreamHandler([0, (byte)MessageType.PushPull])); // shorter than a header
    }

    private sealed class AckRecorder : IMessageHandler<AckMessage>, IStreamRequestHandler
    {
        public List<uint> Seen { get; } = [];

        public void Handle(NodeAddress from, in AckMessage message, TimeSpan now) => Seen.Add(message.Sequence);

        public void HandleStreamRequest(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now)
        {
        }
    }
}
