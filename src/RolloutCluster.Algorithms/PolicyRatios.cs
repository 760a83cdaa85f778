using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>
/// The log of the ratio π_θ/π_old that the clipped loss uses, per token. logProbs: (B, L) with grad;
/// oldLogProbs: (B, L) detached; mask: (B, L) float. Returns (B, L).
/// </summary>
public delegate Tensor PolicyRatio(Tensor logProbs, Tensor oldLogProbs, Tensor mask);

/// <summary>Token-level ratios (PPO, GRPO) and GSPO's sequence-level ratio, chosen by name (<c>loss.ratio</c>).</summary>
public static class PolicyRatios
{
    public const string Token = "token";
    public const string Sequence = "sequence";

    public static readonly Registry<PolicyRatio> Registry = new("policy ratio", new Dictionary<string, PolicyRatio>
    {
        [Token] = TokenLevel,
        [Sequence] = SequenceLevel,
    });

    /// <summary>log π_θ(y_t) − log π_old(y_t), clamped to ±20 so exp cannot overflow.</summary>
    public static Tensor TokenLevel(Tensor logProbs, Tensor oldLogProbs, Tensor mask) => (logProbs - oldLogProbs).clamp(-20, 20);

    /// <summary>
    /// GSPO (Zheng et al., arXiv 2507.18071, its GSPO-token form): every token of sequence i carries the
    /// sequence's length-normalised ratio s_i = exp(mean_t log(π_θ/π_old)), so one sequence is clipped
    /// as a whole; the value is s_i at every token and the gradient is s_i ∇log π_θ(y_t), written as
    /// sg[log s_i] + log π_θ(y_t) − sg[log π_θ(y_t)]. Clip ranges are far narrower than PPO's (the paper
    /// uses 3e-4 / 4e-4), since a sequence mean moves much less than single tokens do.
    /// </summary>
    public static Tensor SequenceLevel(Tensor logProbs, Tensor oldLogProbs, Tensor mask)
    {
        var tokens = mask.sum(1, keepdim: true).clamp_min(1.0);                                 // (B, 1)
        var sequence = ((logProbs - oldLogProbs) * mask).sum(1, keepdim: true) / tokens;        // (B, 1)
        return (sequence.detach() + logProbs - logProbs.detach()).clamp(-20, 20);               // (B, L)
    }
}
