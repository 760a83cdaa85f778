using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>
/// How a (B, L) per-token loss becomes one number. The normalisers can be given for the whole batch
/// so that micro-batches accumulate exactly the full batch's gradient.
/// </summary>
public static class LossAggregation
{
    public const string TokenMean = "token-mean";
    public const string SeqMeanTokenMean = "seq-mean-token-mean";
    public const string SeqMeanTokenSumNorm = "seq-mean-token-sum-norm";

    public static IReadOnlyList<string> Modes => [TokenMean, SeqMeanTokenMean, SeqMeanTokenSumNorm];

    /// <summary>
    /// loss, mask: (B, L). Modes:
    /// <list type="bullet">
    /// <item>token-mean (DAPO, arXiv 2503.14476): Σ loss·mask / Σ mask over the batch;</item>
    /// <item>seq-mean-token-mean (GRPO paper): mean over sequences of each one's token mean; sequences
    /// with no tokens have no mean and are left out of it;</item>
    /// <item>seq-mean-token-sum-norm (Dr. GRPO, arXiv 2503.20783): Σ loss·mask / (sequences × budget), a
    /// constant token budget (the max response length) instead of each sequence's length.</item>
    /// </list>
    /// scale gives whole-batch normalisers when this is one micro-batch of several.
    /// </summary>
    public static Tensor Aggregate(Tensor loss, Tensor mask, string mode, AggregationScale? scale = null, int budget = 0)
    {
        var masked = loss * mask;                                                  // (B, L)
        switch (mode)
        {
            case TokenMean:
                {
                    double tokens = scale?.Tokens ?? mask.sum().item<float>();
                    return masked.sum() / Math.Max(tokens, 1.0);
                }
            case SeqMeanTokenMean:
                {
                    var lengths = mask.sum(1);                                         // (B)
                    var perSequence = masked.sum(1) / lengths.clamp_min(1.0);          // (B); zero-length rows give 0
                    double sequences = scale?.NonEmptySequences ?? lengths.gt(0).sum().item<long>();
                    return perSequence.sum() / Math.Max(sequences, 1.0);
                }
            case SeqMeanTokenSumNorm:
                {
                    if (budget <= 0) throw new ArgumentException("seq-mean-token-sum-norm needs a positive token budget (max response length)");
                    double sequences = scale?.Sequences ?? loss.shape[0];
                    return masked.sum() / (Math.Max(sequences, 1.0) * budget);
                }
            default:
                throw new ArgumentException($"unknown loss aggregation '{mode}'; known: {string.Join(", ", Modes)}");
        }
    }
}

/// <summary>Whole-batch normalisers for aggregating one micro-batch: real tokens, sequences, sequences with ≥ 1 token.</summary>
public sealed record AggregationScale(double Tokens, double Sequences, double NonEmptySequences)
{
    /// <summary>The normalisers of a full batch, from its (B, L) mask.</summary>
    public static AggregationScale Of(Tensor mask) =>
        new(mask.sum().item<float>(), mask.shape[0], mask.sum(1).gt(0).sum().item<long>());
}
