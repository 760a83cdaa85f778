using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>
/// Per-token weights for rollouts sampled by a behaviour policy other than the proximal one (stale
/// versions, or a sampler whose numerics differ from the learner's). oldLogProbs, behaviourLogProbs:
/// (B, L). Returns (B, L), detached.
/// </summary>
public delegate Tensor ImportanceWeighting(Tensor oldLogProbs, Tensor behaviourLogProbs, double cap);

/// <summary>Truncated (TIS) and masked (MIS) importance sampling, chosen by name (<c>loss.importance</c>).</summary>
public static class ImportanceWeights
{
    public const string Truncated = "tis";
    public const string Masked = "mis";

    public static readonly Registry<ImportanceWeighting> Registry = new("importance weighting", new Dictionary<string, ImportanceWeighting>
    {
        [Truncated] = TruncatedWeights,
        [Masked] = MaskedWeights,
    });

    /// <summary>The untruncated ratios π_old/π_b, (B, L), detached; the log-ratio clamped to ±20 so exp cannot overflow.</summary>
    public static Tensor Ratios(Tensor oldLogProbs, Tensor behaviourLogProbs) =>
        (oldLogProbs - behaviourLogProbs).clamp(-20, 20).exp().detach();                     // (B, L)

    static Tensor Raw(Tensor oldLogProbs, Tensor behaviourLogProbs, double cap)
    {
        if (cap <= 0) throw new ArgumentException($"importance-sampling cap must be positive, found {cap}");
        return Ratios(oldLogProbs, behaviourLogProbs);
    }

    /// <summary>
    /// TIS (truncated importance sampling; AReaL's decoupled PPO, arXiv 2505.24298): w = min(π_old/π_b, cap).
    /// Exactly 1 where the two agree. A token far off-policy still trains, with weight cap.
    /// </summary>
    public static Tensor TruncatedWeights(Tensor oldLogProbs, Tensor behaviourLogProbs, double cap)
    {
        using var noGrad = no_grad();
        return Raw(oldLogProbs, behaviourLogProbs, cap).clamp_max(cap);
    }

    /// <summary>
    /// MIS (masked importance sampling): w = π_old/π_b where it is at most cap, else 0, so tokens the
    /// learner would weight beyond the cap (the sampler chose what the learner finds far likelier) leave
    /// the loss instead of training at a truncated weight.
    /// </summary>
    public static Tensor MaskedWeights(Tensor oldLogProbs, Tensor behaviourLogProbs, double cap)
    {
        using var noGrad = no_grad();
        var w = Raw(oldLogProbs, behaviourLogProbs, cap);
        return where(w.gt(cap), zeros_like(w), w);
    }
}
