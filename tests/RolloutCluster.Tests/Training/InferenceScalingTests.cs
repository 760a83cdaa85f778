using RolloutCluster.Training.Evaluation;

namespace RolloutCluster.Tests.Training;

/// <summary>The inference-scaling estimators against values worked out by hand.</summary>
public sealed class InferenceScalingTests
{
    [Theory]
    [InlineData(4, 1, 1, 0.25)]
    [InlineData(4, 1, 2, 0.5)]          // 1 − C(3,2)/C(4,2) = 1 − 3/6
    [InlineData(8, 2, 3, 1 - 20.0 / 56)] // 1 − C(6,3)/C(8,3)
    [InlineData(64, 0, 8, 0.0)]
    [InlineData(5, 4, 2, 1.0)]          // any 2 of 5 include a correct one
    [InlineData(8, 3, 8, 1.0)]
    public void Pass_at_n_is_the_unbiased_estimate(int k, int correct, int n, double expected) =>
        Assert.Equal(expected, InferenceScaling.PassAtN(k, correct, n), 12);

    [Fact]
    public void Pass_at_n_refuses_more_samples_than_were_drawn() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => InferenceScaling.PassAtN(4, 1, 5));

    [Fact]
    public void Maj_at_n_votes_in_disjoint_runs_of_n()
    {
        string?[] answers = ["7", "0.5", "1/2", "7", "\\frac{1}{2}"];
        bool[] correct = [false, true, true, false, true];
        Assert.Equal(1.0, InferenceScaling.MajorityAtN(answers, correct, 5));
        // Runs (7, 0.5): a tie, "7" first, wrong; (1/2, 7): "1/2" first, right; the fifth sample is left over.
        Assert.Equal(0.5, InferenceScaling.MajorityAtN(answers, correct, 2));
        Assert.Equal(0.6, InferenceScaling.MajorityAtN(answers, correct, 1), 12);
    }

    [Fact]
    public void The_curve_doubles_up_to_k() =>
        Assert.Equal([1, 2, 4, 8, 12], Evaluator.ScalingSizes(12));
}

/// <summary>Best-of-n and reward-weighted majority by a scorer's scores.</summary>
public sealed class RankedScalingTests
{
    [Fact]
    public void Best_of_n_takes_the_highest_scored_sample_of_each_run()
    {
        double[] scores = [0.1, 2.0, -1.0, 0.5];
        bool[] correct = [true, false, false, true];
        Assert.Equal(0.5, InferenceScaling.BestOfN(scores, correct, 1));   // the samples alone: 2 of 4 right
        Assert.Equal(0.5, InferenceScaling.BestOfN(scores, correct, 2));   // (0.1, 2.0) picks the wrong one; (-1.0, 0.5) the right one
        Assert.Equal(0.0, InferenceScaling.BestOfN(scores, correct, 4));   // 2.0 wins and is wrong
    }

    [Fact]
    public void Weighted_majority_lets_confident_votes_outweigh_many_doubtful_ones()
    {
        string?[] answers = ["7", "7", "8"];
        bool[] correct = [false, false, true];
        Assert.Equal(0.0, InferenceScaling.MajorityAtN(answers, correct, 3));
        // σ(-3) + σ(-3) = 0.095 for "7" against σ(3) = 0.953 for "8".
        Assert.Equal(1.0, InferenceScaling.WeightedMajorityAtN(answers, [-3.0, -3.0, 3.0], correct, 3));
        Assert.Equal(0.0, InferenceScaling.WeightedMajorityAtN(answers, [0.0, 0.0, 0.0], correct, 3));
    }
}
