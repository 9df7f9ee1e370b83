using Rumor.Core.Membership;

namespace Rumor.Core.Tests;

/// <summary>The join rule shared by <c>rumor cluster</c> and the simulator's scenario that predicts it.</summary>
public class ManyNodeJoinTests
{
    [Fact]
    public void Node_1_joins_through_node_0_and_node_i_through_node_0_and_node_i_over_2()
    {
        static NodeAddress Of(int k) => new(0x7F000001, (ushort)(20000 + k));
        Assert.Equal([Of(0)], ManyNodeJoin.Seeds(1, Of));
        Assert.Equal([Of(0), Of(1)], ManyNodeJoin.Seeds(2, Of));
        Assert.Equal([Of(0), Of(1)], ManyNodeJoin.Seeds(3, Of));
        Assert.Equal([Of(0), Of(499)], ManyNodeJoin.Seeds(999, Of));
        Assert.Throws<ArgumentOutOfRangeException>(() => ManyNodeJoin.Seeds(0, Of));
    }
}
