using RolloutCluster.Algorithms;

namespace RolloutCluster.Tests.Algorithms;

public sealed class MicroBatchTests
{
    static string Shape(List<int[]> passes) => string.Join(" | ", passes.Select(p => string.Join(",", p)));

    [Fact]
    public void Rows_alone_cut_every_max_rows()
    {
        int[] lengths = [5, 5, 5, 5, 5];
        Assert.Equal("5,5 | 5,5 | 5", Shape(MicroBatches.Split(lengths, x => x, maxRows: 2)));
    }

    [Fact]
    public void A_token_budget_cuts_where_rows_times_the_longest_would_pass_it()
    {
        // Budget 20: [4,4,4,4,4] costs 5 x 4 = 20 (fits); adding 9 would cost 6 x 9; [9,9] = 18; [9,9,3] = 27 > 20.
        int[] lengths = [4, 4, 4, 4, 4, 9, 9, 3, 3, 30, 2];
        Assert.Equal("4,4,4,4,4 | 9,9 | 3,3 | 30 | 2", Shape(MicroBatches.Split(lengths, x => x, maxRows: 64, maxTokens: 20)));
    }

    [Fact]
    public void Both_limits_apply_and_order_is_kept()
    {
        int[] lengths = [1, 2, 3, 4, 5, 6];
        Assert.Equal("1,2 | 3,4 | 5 | 6", Shape(MicroBatches.Split(lengths, x => x, maxRows: 2, maxTokens: 9)));
        Assert.Throws<ArgumentOutOfRangeException>(() => MicroBatches.Split(lengths, x => x, maxRows: 0));
    }
}
