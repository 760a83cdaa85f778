using RolloutCluster.Algorithms;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Algorithms;

/// <summary>The reward model's losses against values worked out by hand.</summary>
public sealed class RewardModelLossTests
{
    [Fact]
    public void Pairwise_is_bradley_terry_over_right_and_wrong_samples_of_one_prompt()
    {
        using var scores = tensor(new[] { 2f, 0f, 1f, 5f, -5f });
        // Prompt 0: pairs (0, 1) and (0, 2): (−log σ(2) − log σ(1)) / 2 = (0.1269280 + 0.3132617) / 2. Prompt 1 has no wrong sample.
        var (loss, pairs) = RewardModelLoss.Pairwise(scores, [true, false, false, true, true], [0, 0, 0, 1, 1]);
        Assert.Equal(2, pairs);
        Assert.Equal(0.2200948, loss!.item<float>(), 6);
        Assert.Equal((null, 0), RewardModelLoss.Pairwise(scores, [true, true, true, true, true], [0, 0, 0, 1, 1]) is var (l, p) ? (l, p) : default);
    }

    [Fact]
    public void Pointwise_is_binary_cross_entropy_on_the_logits()
    {
        using var scores = tensor(new[] { 0f, 2f });
        // (−log σ(0) − log(1 − σ(2))) / 2 = (0.693147 + 2.126928) / 2
        Assert.Equal(1.410038, RewardModelLoss.Pointwise(scores, [true, false]).item<float>(), 5);
    }
}
