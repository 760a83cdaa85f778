namespace RolloutCluster.Rewards.Answers;

/// <summary>
/// Voting over final answers by equivalence class, as maj@k is meant (DeepSeek-R1's cons@64): "0.5",
/// "1/2" and "\frac{1}{2}" are one answer with three votes, not three answers with one each. Two
/// answers are one class when <see cref="MathEquivalence"/> accepts either as the other (a rounded
/// decimal joins the value it rounds from) or their normalised forms are equal. Classes are formed
/// greedily against each class's first answer, in sample order, so the result is deterministic.
/// </summary>
public static class AnswerVotes
{
    /// <summary>The class of each answer, numbered in order of first appearance; -1 for a missing or empty answer.</summary>
    public static int[] Classes(IReadOnlyList<string?> answers)
    {
        var classOf = new int[answers.Count];
        var representatives = new List<(string Answer, string Normalized)>();
        for (int i = 0; i < answers.Count; i++)
        {
            if (answers[i] is not { Length: > 0 } answer) { classOf[i] = -1; continue; }
            string normalized = MathNormalizer.Normalize(answer);
            int found = representatives.FindIndex(r => r.Normalized == normalized
                || MathEquivalence.Equivalent(answer, r.Answer) == true || MathEquivalence.Equivalent(r.Answer, answer) == true);
            if (found < 0)
            {
                found = representatives.Count;
                representatives.Add((answer, normalized));
            }
            classOf[i] = found;
        }
        return classOf;
    }

    /// <summary>
    /// The sample whose answer wins the vote: the first sample of the class with the largest total
    /// weight (each sample weighs 1 when <paramref name="weights"/> is null: plain majority; a reward
    /// model's scores make it reward-weighted majority). Ties go to the class seen first. -1 when no
    /// sample states an answer.
    /// </summary>
    public static int Winner(IReadOnlyList<string?> answers, IReadOnlyList<double>? weights = null)
    {
        if (weights is not null && weights.Count != answers.Count)
            throw new ArgumentException($"{weights.Count} weights for {answers.Count} answers", nameof(weights));
        var classes = Classes(answers);
        var totals = new Dictionary<int, (double Weight, int First)>();
        for (int i = 0; i < classes.Length; i++)
        {
            if (classes[i] < 0) continue;
            double w = weights?[i] ?? 1.0;
            totals[classes[i]] = totals.TryGetValue(classes[i], out var t) ? (t.Weight + w, t.First) : (w, i);
        }
        return totals.Count == 0 ? -1 : totals.Values.OrderByDescending(t => t.Weight).ThenBy(t => t.First).First().First;
    }
}
