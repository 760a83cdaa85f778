using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>Turns the rewards of each group of samples (same prompt) into per-sample advantages.</summary>
/// <param name="rewards">(G, N) float32: G groups of N samples.</param>
/// <param name="epsilon">Guards divisions by a group's spread.</param>
/// <returns>(G, N) advantages and metrics.</returns>
public delegate (Tensor Advantages, Metrics Metrics) AdvantageEstimator(Tensor rewards, double epsilon);

/// <summary>
/// Outcome advantages for GRPO-style training, one scalar per completion. A group whose rewards are
/// all equal carries no signal: its advantages are exactly zero (rounding would otherwise leave tiny
/// values, PLATFORM.md), so the learner can skip it.
/// </summary>
public static class Advantages
{
    public static readonly Registry<AdvantageEstimator> Registry = new("advantage estimator", new Dictionary<string, AdvantageEstimator>
    {
        ["grpo"] = Grpo,
        ["dr_grpo"] = DrGrpo,
        ["rloo"] = Rloo,
    });

    /// <summary>GRPO (DeepSeekMath, arXiv 2402.03300, eq. 3): A_i = (r_i - mean(r)) / (std(r) + ε), std unbiased as in veRL.</summary>
    public static (Tensor, Metrics) Grpo(Tensor rewards, double epsilon)
    {
        var mean = rewards.mean([1], keepdim: true);                    // (G, 1)
        var std = rewards.std(1, unbiased: true, keepdim: true);        // (G, 1)
        var advantages = (rewards - mean) / (std + epsilon);            // (G, N)
        return (ZeroFlatGroups(rewards, advantages), Summary(rewards, advantages));
    }

    /// <summary>Dr. GRPO (arXiv 2503.20783): A_i = r_i - mean(r), no division by the group's std.</summary>
    public static (Tensor, Metrics) DrGrpo(Tensor rewards, double epsilon)
    {
        var advantages = rewards - rewards.mean([1], keepdim: true);    // (G, N)
        return (ZeroFlatGroups(rewards, advantages), Summary(rewards, advantages));
    }

    /// <summary>RLOO (Ahmadian et al. 2024, arXiv 2402.14740): A_i = r_i - mean of the other N-1 rewards.</summary>
    public static (Tensor, Metrics) Rloo(Tensor rewards, double epsilon)
    {
        long n = rewards.shape[1];
        if (n < 2) throw new ArgumentException("RLOO needs at least 2 samples per group");
        var others = (rewards.sum(1, keepdim: true) - rewards) / (n - 1);  // (G, N)
        var advantages = rewards - others;                                // (G, N)
        return (ZeroFlatGroups(rewards, advantages), Summary(rewards, advantages));
    }

    /// <summary>Groups whose rewards are all equal (max == min): advantages set to exactly 0.</summary>
    static Tensor ZeroFlatGroups(Tensor rewards, Tensor advantages)
    {
        var flat = rewards.amax([1], keepdim: true).eq(rewards.amin([1], keepdim: true)); // (G, 1)
        return advantages.masked_fill(flat, 0.0);
    }

    static Metrics Summary(Tensor rewards, Tensor advantages)
    {
        var flat = rewards.amax([1]).eq(rewards.amin([1]));
        return new Metrics
        {
            ["critic/advantages/mean"] = advantages.mean().item<float>(),
            ["critic/advantages/max"] = advantages.max().item<float>(),
            ["critic/advantages/min"] = advantages.min().item<float>(),
            ["batch/zero_variance_groups"] = flat.sum().item<long>(),
        };
    }
}
