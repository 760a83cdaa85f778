using RolloutCluster.Algorithms;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Algorithms;

public sealed class KlAndFilterTests
{
    // log π = -1, log π_ref = -1.5: x = log π_ref - log π = -0.5.
    [Theory]
    [InlineData("k1", 0.5)]
    [InlineData("k2", 0.125)]
    [InlineData("k3", 0.10653066)] // e^-0.5 + 0.5 - 1
    public void Kl_estimators_match_hand_values(string name, double expected)
    {
        var kl = KlEstimators.Registry.Get(name)(tensor(new[] { -1f }), tensor(new[] { -1.5f }));
        Assert.Equal(expected, kl.item<float>(), 6);
    }

    [Fact]
    public void K3_is_zero_when_the_policies_agree_and_never_negative()
    {
        var lp = randn(1000) - 2;
        Assert.True(KlEstimators.K3(lp, lp).eq(0).all().item<bool>());
        Assert.True(KlEstimators.K3(lp, randn(1000) - 2).ge(0).all().item<bool>());
    }

    [Fact]
    public void K3_is_capped_at_ten_and_gives_no_gradient_past_the_cap()
    {
        // x = 20: e^20 - 21 = 4.85e8 uncapped. x = 2: e^2 - 3 = 4.389 stays.
        var lp = tensor(new[] { -21f, -3f }).requires_grad_(true);
        var kl = KlEstimators.K3(lp, tensor(new[] { -1f, -1f }));
        Assert.Equal(10.0, kl[0].item<float>(), 5);
        Assert.Equal(Math.Exp(2) - 3, kl[1].item<float>(), 4);
        kl.sum().backward();
        Assert.Equal(0.0, lp.grad![0].item<float>(), 6);
        Assert.Equal(-(Math.Exp(2) - 1), lp.grad![1].item<float>(), 4);   // d/dlogπ of e^x - x - 1, x = logπ_ref - logπ
    }

    [Fact]
    public void Kl_penalty_is_coefficient_times_the_aggregated_estimate()
    {
        var lp = tensor(new float[,] { { -1, -1 }, { -1, -1 } });
        var refLp = tensor(new float[,] { { -1.5f, -1 }, { -1.5f, -1.5f } });
        var mask = tensor(new float[,] { { 1, 1 }, { 1, 0 } });
        var (loss, metrics) = KlEstimators.Penalty(lp, refLp, mask, "k1", 0.1, "token-mean");
        Assert.Equal(0.1 * (0.5 + 0 + 0.5) / 3, loss.item<float>(), 6);
        Assert.Equal((0.5 + 0 + 0.5) / 3, metrics["actor/kl"], 6);
    }

    [Theory]
    [InlineData(40, 0.0)]
    [InlineData(48, 0.0)]
    [InlineData(56, -0.5)]
    [InlineData(64, -1.0)]
    [InlineData(70, -1.0)]
    public void Soft_overlong_penalty_ramps_down_over_the_buffer(int length, double expected) =>
        Assert.Equal(expected, GroupFilters.SoftOverlongPenalty(length, maxLength: 64, buffer: 16), 9);

    [Fact]
    public void Dynamic_sampling_keeps_only_groups_with_different_rewards()
    {
        Assert.True(GroupFilters.HasSignal([1, 0, 0]));
        Assert.False(GroupFilters.HasSignal([1, 1, 1]));
        Assert.False(GroupFilters.HasSignal([0.25]));
    }

    [Fact]
    public void Learning_rate_warms_up_then_follows_the_schedule()
    {
        var cosine = new OptimizerConfig { LearningRate = 1e-3, WarmupSteps = 10, Schedule = "cosine", TotalSteps = 110 };
        Assert.Equal(1e-4, cosine.LearningRateAt(0), 12);
        Assert.Equal(1e-3, cosine.LearningRateAt(9), 12);
        Assert.Equal(1e-3, cosine.LearningRateAt(10), 12);
        Assert.Equal(5e-4, cosine.LearningRateAt(60), 12);
        Assert.Equal(0, cosine.LearningRateAt(110), 12);
        Assert.Equal(1e-3, (cosine with { Schedule = "constant" }).LearningRateAt(500), 12);
    }
}
