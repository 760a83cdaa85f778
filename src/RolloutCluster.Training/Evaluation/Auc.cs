namespace RolloutCluster.Training.Evaluation;

/// <summary>
/// Area under the ROC curve by the Mann-Whitney U statistic: the probability that a random positive
/// scores above a random negative, ties counting half (what sklearn's roc_auc_score computes).
/// </summary>
public static class Auc
{
    /// <summary>The AUC of scores against labels; null when either class is absent (it is undefined then).</summary>
    public static double? Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        if (scores.Count != labels.Count) throw new ArgumentException($"{scores.Count} scores for {labels.Count} labels");
        long positives = labels.Count(l => l), negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0) return null;
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positiveRanks = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;   // tied scores share the mean of their ranks
            for (int k = start; k <= end; k++) if (labels[order[k]]) positiveRanks += rank;
            start = end + 1;
        }
        return (positiveRanks - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }
}
