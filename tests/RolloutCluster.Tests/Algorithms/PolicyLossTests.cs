using RolloutCluster.Algorithms;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Algorithms;

/// <summary>
/// The clipped loss on a hand-worked batch (clip 0.2 / 0.28):
/// row 0, A = +1, ratios 1.5, 0.5, 1.0 → per-token losses -1.28, -0.5, -1.0 (first clipped);
/// row 1, A = -2, ratios 2.0, 0.7 (third token padding) → 4.0, 1.6 (second clipped);
/// row 2, A = +3, a zero-length completion.
/// </summary>
public sealed class PolicyLossTests
{
    static (Tensor LogProbs, Tensor Old, Tensor Advantages, Tensor Mask) Batch()
    {
        var logRatio = tensor(new float[,] { { MathF.Log(1.5f), MathF.Log(0.5f), 0 }, { MathF.Log(2f), MathF.Log(0.7f), 5 }, { 1, 1, 1 } });
        var old = tensor(new float[,] { { -1, -2, -3 }, { -0.5f, -1, -2 }, { -1, -1, -1 } });
        var mask = tensor(new float[,] { { 1, 1, 1 }, { 1, 1, 0 }, { 0, 0, 0 } });
        return (old + logRatio, old, tensor(new float[] { 1, -2, 3 }), mask);
    }

    static double Loss(string aggregation, double? dualClip = null, int budget = 0)
    {
        var (lp, old, adv, mask) = Batch();
        var (loss, _) = PolicyLoss.Compute(lp, old, null, adv, mask, new PolicyLossConfig(0.2, 0.28, dualClip, 2.0, aggregation, budget));
        return loss.item<float>();
    }

    [Fact]
    public void Token_mean_divides_by_all_real_tokens() =>
        Assert.Equal((-1.28 - 0.5 - 1.0 + 4.0 + 1.6) / 5, Loss("token-mean"), 5);

    [Fact]
    public void Seq_mean_token_mean_leaves_out_the_empty_completion() =>
        Assert.Equal(((-1.28 - 0.5 - 1.0) / 3 + (4.0 + 1.6) / 2) / 2, Loss("seq-mean-token-mean"), 5);

    [Fact]
    public void Seq_mean_token_sum_norm_divides_by_sequences_times_budget() =>
        Assert.Equal((-1.28 - 0.5 - 1.0 + 4.0 + 1.6) / (3 * 4), Loss("seq-mean-token-sum-norm", budget: 4), 5);

    [Fact]
    public void Dual_clip_caps_negative_advantage_losses()
    {
        // c = 1.5 caps row 1 at -A·c = 3: 4.0 → 3.0.
        Assert.Equal((-1.28 - 0.5 - 1.0 + 3.0 + 1.6) / 5, Loss("token-mean", dualClip: 1.5), 5);
        // c = 3 (cap 6) changes nothing.
        Assert.Equal((-1.28 - 0.5 - 1.0 + 4.0 + 1.6) / 5, Loss("token-mean", dualClip: 3), 5);
    }

    [Fact]
    public void Metrics_count_clipped_tokens_and_ratio_extremes()
    {
        var (lp, old, adv, mask) = Batch();
        var (_, m) = PolicyLoss.Compute(lp, old, null, adv, mask, new PolicyLossConfig(0.2, 0.28, 1.5));
        Assert.Equal(2.0 / 5, m["actor/pg_clipfrac"], 5);
        Assert.Equal(1.0 / 5, m["actor/pg_clipfrac_lower"], 5);
        Assert.Equal(2.0, m["actor/ratio_max"], 4);   // the padding token's ratio (e^5) is not counted
        Assert.Equal(0.5, m["actor/ratio_min"], 4);
    }

    [Fact]
    public void The_gradient_of_an_unclipped_token_is_minus_advantage_times_ratio()
    {
        var (lp, old, adv, mask) = Batch();
        lp = lp.detach().requires_grad_(true);
        var (loss, _) = PolicyLoss.Compute(lp, old, null, adv, mask, new PolicyLossConfig());
        loss.backward();
        var g = lp.grad!;
        // d/dlogp of -A·r is -A·r; clipped tokens have zero gradient; divided by 5 tokens.
        Assert.Equal(0.0, g[0, 0].item<float>(), 6);          // clipped
        Assert.Equal(-1 * 0.5 / 5, g[0, 1].item<float>(), 6);
        Assert.Equal(-2 * -2.0 / 5 * 1, g[1, 0].item<float>() / 1, 5);
        Assert.Equal(0.0, g[1, 1].item<float>(), 6);          // clipped
        Assert.Equal(0.0, g[2, 0].item<float>(), 6);          // empty row
    }

    [Fact]
    public void Importance_weights_are_exactly_one_when_behaviour_and_current_agree()
    {
        var (lp, old, adv, mask) = Batch();
        var weights = ImportanceWeights.TruncatedWeights(old, old.clone(), cap: 2.0);
        Assert.True(weights.eq(1f).all().item<bool>());
        var (withIs, _) = PolicyLoss.Compute(lp, old, old.clone(), adv, mask, new PolicyLossConfig());
        var (without, _) = PolicyLoss.Compute(lp, old, null, adv, mask, new PolicyLossConfig());
        Assert.Equal(without.item<float>(), withIs.item<float>());
    }

    [Fact]
    public void Importance_weights_are_truncated_at_the_cap()
    {
        var old = tensor(new float[,] { { 0f, 0f } });
        var behaviour = tensor(new float[,] { { -MathF.Log(3f), -MathF.Log(1.5f) } });  // π_old/π_b = 3, 1.5
        var w = ImportanceWeights.TruncatedWeights(old, behaviour, cap: 2.0).data<float>().ToArray();
        Assert.Equal(2.0, w[0], 5);
        Assert.Equal(1.5, w[1], 5);
    }

    [Fact]
    public void Masked_importance_sampling_drops_tokens_past_the_cap_instead_of_truncating()
    {
        var old = tensor(new float[,] { { 0f, 0f, 0f } });
        var behaviour = tensor(new float[,] { { -MathF.Log(3f), -MathF.Log(1.5f), MathF.Log(2f) } });  // π_old/π_b = 3, 1.5, 0.5
        var w = ImportanceWeights.Registry.Get("mis")(old, behaviour, 2.0).data<float>().ToArray();
        Assert.Equal([0f, 1.5f, 0.5f], w.Select(x => MathF.Round(x, 5)));
    }

    [Fact]
    public void Sequence_level_ratios_clip_each_sequence_as_a_whole()
    {
        // GSPO: row 0's ratio is (1.5 · 0.5 · 1)^(1/3) = 0.9086 at every token (inside [0.8, 1.28]): loss -0.9086
        // a token; row 1's is (2 · 0.7)^(1/2) = 1.1832 (A = -2): loss 2.3664 a token; the empty row adds nothing.
        var (lp, old, adv, mask) = Batch();
        lp = lp.detach().requires_grad_(true);
        var config = new PolicyLossConfig(0.2, 0.28, null, 2.0, "token-mean", 0, PolicyRatios.Sequence);
        var (loss, metrics) = PolicyLoss.Compute(lp, old, null, adv, mask, config);
        double s0 = Math.Pow(0.75, 1.0 / 3), s1 = Math.Sqrt(1.4);
        Assert.Equal((3 * -s0 + 2 * 2 * s1) / 5, loss.item<float>(), 4);
        Assert.Equal(0.0, metrics["actor/pg_clipfrac"], 6);
        loss.backward();
        // d/dlogπ_t of -A·s_i (s_i's value held, the token's own log-prob carrying the gradient) is -A·s_i, ÷ 5 tokens.
        Assert.Equal(-1 * s0 / 5, lp.grad![0, 0].item<float>(), 5);
        Assert.Equal(2 * s1 / 5, lp.grad![1, 1].item<float>(), 5);
        // GSPO's narrow ranges with the advantages' signs flipped: row 0 (A = -1, 0.9086 < 1 - 3e-4) and row 1
        // (A = +2, 1.1832 > 1 + 4e-4) are each clipped whole, every token of both.
        var flipped = tensor(new float[] { -1, 2, 3 });
        var (_, narrow) = PolicyLoss.Compute(lp.detach(), old, null, flipped, mask, config with { ClipLow = 3e-4, ClipHigh = 4e-4 });
        Assert.Equal(1.0, narrow["actor/pg_clipfrac"], 5);
    }
}
