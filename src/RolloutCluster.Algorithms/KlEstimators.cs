using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>Per-token estimate of KL(π_θ ‖ π_ref) from log-probabilities of the sampled tokens.</summary>
/// <param name="logProbs">(B, L) log π_θ.</param>
/// <param name="refLogProbs">(B, L) log π_ref.</param>
public delegate Tensor KlEstimator(Tensor logProbs, Tensor refLogProbs);

/// <summary>
/// Schulman's estimators ("Approximating KL divergence", 2020) as GRPO and veRL use them: with
/// x = log π_ref - log π_θ, k1 = -x (unbiased, high variance), k2 = x²/2, k3 = eˣ - x - 1 (unbiased,
/// never negative; GRPO's eq. 4).
/// </summary>
public static class KlEstimators
{
    public static readonly Registry<KlEstimator> Registry = new("KL estimator", new Dictionary<string, KlEstimator>
    {
        ["k1"] = K1,
        ["k2"] = K2,
        ["k3"] = K3,
    });

    public static Tensor K1(Tensor logProbs, Tensor refLogProbs) => logProbs - refLogProbs;

    public static Tensor K2(Tensor logProbs, Tensor refLogProbs) => 0.5 * (logProbs - refLogProbs).square();

    /// <summary>
    /// k3, capped at 10 as veRL caps it (its low_var_kl): past a log-ratio of about ±2.5 the estimate grows
    /// like e^|x| (4.85e8 at 20) and so does its gradient, so one token far from the reference would
    /// outweigh the whole batch's policy gradient; capped, such a token adds at most 10 and no gradient.
    /// </summary>
    public static Tensor K3(Tensor logProbs, Tensor refLogProbs)
    {
        var x = (refLogProbs - logProbs).clamp(-20, 20);   // (B, L)
        return (x.exp() - x - 1).clamp_max(10);
    }

    /// <summary>KL penalty term: coefficient · aggregate(estimator(logπ, logπ_ref)); metrics actor/kl and actor/kl_loss.</summary>
    public static (Tensor Loss, Metrics Metrics) Penalty(Tensor logProbs, Tensor refLogProbs, Tensor mask, string estimator, double coefficient,
        string aggregation, AggregationScale? scale = null, int budget = 0)
    {
        var kl = Registry.Get(estimator)(logProbs, refLogProbs);                      // (B, L)
        var aggregated = LossAggregation.Aggregate(kl, mask, aggregation, scale, budget);
        var metrics = new Metrics { ["actor/kl"] = aggregated.item<float>(), ["actor/kl_coef"] = coefficient };
        var loss = coefficient * aggregated;
        metrics["actor/kl_loss"] = loss.item<float>();
        return (loss, metrics);
    }
}
