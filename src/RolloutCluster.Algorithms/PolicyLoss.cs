using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>Settings of the clipped policy-gradient loss.</summary>
/// <param name="ClipLow">ε_low: ratio floor 1 - ε_low for positive advantages.</param>
/// <param name="ClipHigh">ε_high: ratio ceiling 1 + ε_high (DAPO clip-higher: 0.28 with ε_low 0.2).</param>
/// <param name="DualClip">
/// c &gt; 1: caps the loss of negative-advantage tokens at -A·c (dual-clip PPO, Ye et al. 2020); null = off.
/// On by default at 3, as in veRL: it binds only where a negative-advantage token's ratio passes c, which
/// needs several updates per batch (ppo_epochs, mini_batches) or stale rollouts, and there it keeps
/// one token's loss from growing with its ratio.
/// </param>
/// <param name="IsCap">Truncation of the importance weight π_old/π_behaviour for stale rollouts.</param>
/// <param name="Aggregation">A <see cref="LossAggregation"/> mode.</param>
/// <param name="Budget">Token budget for seq-mean-token-sum-norm.</param>
/// <param name="Ratio">A <see cref="PolicyRatios"/> name: token-level (PPO, GRPO) or sequence-level (GSPO).</param>
/// <param name="Importance">An <see cref="ImportanceWeights"/> name: how tokens of an older behaviour policy are reweighted.</param>
public sealed record PolicyLossConfig(
    double ClipLow = 0.2,
    double ClipHigh = 0.28,
    double? DualClip = 3.0,
    double IsCap = 2.0,
    string Aggregation = LossAggregation.TokenMean,
    int Budget = 0,
    string Ratio = PolicyRatios.Token,
    string Importance = ImportanceWeights.Truncated);

/// <summary>
/// The PPO-style clipped surrogate of GRPO (DeepSeekMath eq. 3) with DAPO's decoupled clip range, the
/// ratio token-level or sequence-level (<see cref="PolicyRatios"/>, GSPO), and decoupled off-policy
/// correction (AReaL, arXiv 2505.24298): the ratio is taken against the proximal (old) policy, and
/// tokens sampled by an older behaviour policy are reweighted (<see cref="ImportanceWeights"/>: truncated
/// or masked), a constant in the gradient.
/// </summary>
public static class PolicyLoss
{
    /// <summary>
    /// logProbs: (B, L) log π_θ, with grad. oldLogProbs: (B, L) log π_old (detached). behaviourLogProbs:
    /// (B, L) log-probs recorded by the sampler, or null when the rollouts are on-policy (w = 1).
    /// advantages: (B). mask: (B, L) float, 1 for real completion tokens. Returns the aggregated loss and metrics.
    /// </summary>
    public static (Tensor Loss, Metrics Metrics) Compute(Tensor logProbs, Tensor oldLogProbs, Tensor? behaviourLogProbs,
        Tensor advantages, Tensor mask, PolicyLossConfig config, AggregationScale? scale = null)
    {
        var a = advantages.unsqueeze(1);                                                  // (B, 1)
        var logRatio = PolicyRatios.Registry.Get(config.Ratio)(logProbs, oldLogProbs, mask); // (B, L)
        var ratio = logRatio.exp();                                                       // (B, L)
        var unclipped = -a * ratio;                                                       // (B, L)
        var clipped = -a * ratio.clamp(1 - config.ClipLow, 1 + config.ClipHigh);          // (B, L)
        var loss = maximum(unclipped, clipped);                                           // (B, L)
        var clipFrac = clipped.gt(unclipped).to(float32);
        Tensor lowerFrac = zeros_like(loss);
        if (config.DualClip is { } c)
        {
            if (c <= 1) throw new ArgumentException($"dual clip constant must be > 1, found {c}");
            var cap = -a * c;                                                             // (B, 1)
            var negative = a.lt(0).expand_as(loss);
            lowerFrac = (loss.gt(cap) & negative).to(float32);
            loss = where(negative, minimum(loss, cap), loss);
        }
        var weight = behaviourLogProbs is null ? null
            : ImportanceWeights.Registry.Get(config.Importance)(oldLogProbs, behaviourLogProbs, config.IsCap); // (B, L)
        if (weight is not null) loss = loss * weight;
        var total = LossAggregation.Aggregate(loss, mask, config.Aggregation, scale, config.Budget);

        using var noGrad = no_grad();
        double tokens = Math.Max(mask.sum().item<float>(), 1);
        var real = mask.gt(0);
        var metrics = new Metrics
        {
            ["actor/pg_loss"] = total.item<float>(),
            ["actor/pg_clipfrac"] = (clipFrac * mask).sum().item<float>() / tokens,
            ["actor/pg_clipfrac_lower"] = (lowerFrac * mask).sum().item<float>() / tokens,
            ["actor/ppo_kl"] = (-logRatio * mask).sum().item<float>() / tokens,
            ["actor/ratio_max"] = tokens > 0 && real.any().item<bool>() ? ratio.masked_select(real).max().item<float>() : 1.0,
            ["actor/ratio_min"] = tokens > 0 && real.any().item<bool>() ? ratio.masked_select(real).min().item<float>() : 1.0,
        };
        if (weight is not null)
        {
            metrics["actor/is_weight_mean"] = (weight * mask).sum().item<float>() / tokens;
            // Tokens whose weight the cap changed: truncated to it (tis) or dropped (mis).
            var raw = ImportanceWeights.Ratios(oldLogProbs, behaviourLogProbs!);
            metrics["actor/is_truncated_frac"] = (raw.gt(config.IsCap).to(float32) * mask).sum().item<float>() / tokens;
        }
        return (total, metrics);
    }
}
