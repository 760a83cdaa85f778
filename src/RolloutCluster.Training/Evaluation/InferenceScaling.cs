using RolloutCluster.Rewards.Answers;

namespace RolloutCluster.Training.Evaluation;

/// <summary>
/// Accuracy as a function of the samples spent on one problem (inference-time scaling), estimated
/// from k samples already drawn: pass@n with the unbiased estimator of Chen et al. 2021 (Codex),
/// maj@n averaged over the k / n disjoint runs of n consecutive samples (every sample counts once).
/// </summary>
public static class InferenceScaling
{
    /// <summary>P(at least one of n samples drawn without replacement from k, c of them correct, is correct) = 1 − C(k−c, n) / C(k, n).</summary>
    public static double PassAtN(int k, int correct, int n)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, k);
        if (k - correct < n) return 1.0;
        // C(k−c, n) / C(k, n) = Π_{i=0}^{n−1} (k−c−i) / (k−i), as a product to stay in range.
        double none = 1.0;
        for (int i = 0; i < n; i++) none *= (double)(k - correct - i) / (k - i);
        return 1.0 - none;
    }

    /// <summary>The share of the k / n disjoint runs of n samples whose majority answer (by equivalence class) was a correct sample's.</summary>
    public static double MajorityAtN(IReadOnlyList<string?> answers, IReadOnlyList<bool> correct, int n) =>
        ShareOfRuns(answers.Count, n, "vote", correct, start => AnswerVotes.Winner(answers.Skip(start).Take(n).ToList()));

    /// <summary>Best-of-n by a scorer (a reward model): the share of the k / n disjoint runs of n samples whose highest-scored sample is correct (ties: the earliest).</summary>
    public static double BestOfN(IReadOnlyList<double> scores, IReadOnlyList<bool> correct, int n) =>
        ShareOfRuns(scores.Count, n, "choice", correct, start =>
        {
            int best = 0;
            for (int i = 1; i < n; i++) if (scores[start + i] > scores[start + best]) best = i;
            return best;
        });

    /// <summary>Reward-weighted majority at n: as <see cref="MajorityAtN"/>, each vote weighted by its sample's probability of being correct (sigmoid of the score).</summary>
    public static double WeightedMajorityAtN(IReadOnlyList<string?> answers, IReadOnlyList<double> scores, IReadOnlyList<bool> correct, int n) =>
        ShareOfRuns(answers.Count, n, "vote", correct, start =>
            AnswerVotes.Winner(answers.Skip(start).Take(n).ToList(), scores.Skip(start).Take(n).Select(s => 1 / (1 + Math.Exp(-s))).ToList()));

    /// <summary>
    /// Splits k samples into k / n disjoint runs of n and returns the share of runs whose chosen sample
    /// (pick: the run's start → the index within the run, or -1 for none) is correct.
    /// </summary>
    static double ShareOfRuns(int samples, int n, string what, IReadOnlyList<bool> correct, Func<int, int> pick)
    {
        int runs = samples / n;
        if (runs == 0) throw new ArgumentOutOfRangeException(nameof(n), $"{n} samples per {what}, only {samples} drawn");
        int won = 0;
        for (int r = 0; r < runs; r++)
            if (pick(r * n) is var chosen and >= 0 && correct[r * n + chosen]) won++;
        return (double)won / runs;
    }
}
