using RolloutCluster.Data;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Answers;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Evaluation;

/// <summary>
/// Self-refinement with extrinsic feedback (DeepSeek-R1's inference-time scaling; Reflexion, arXiv
/// 2303.11366): every sample the verifier finds wrong goes back to the policy with its latest attempt
/// and the verifier's verdict on it, for up to R rounds. Only the latest attempt rides along, so a
/// prompt grows by one attempt and one feedback line however many rounds run (a model's context is
/// finite: four full attempts overflowed the tiny model's 512 positions). The feedback says what was
/// wrong without the reference: the answer given is not correct (math), or the tests' failure output
/// (code). A sample once right stays right.
/// </summary>
public static class SelfRefinement
{
    /// <summary>What the policy is told about a wrong sample: never the expected answer.</summary>
    public static string Feedback(string correctness, string completion, string reason)
    {
        if (correctness == "code") return $"Feedback: the program failed its tests: {Shorten(reason, 400)}. Fix it.";
        return AnswerExtraction.Extract(completion) is { Length: > 0 } answer
            ? $"Feedback: {Shorten(answer, 60)} is not the correct answer. Try again."
            : "Feedback: no final answer was found in <answer></answer>. Try again.";
    }

    /// <summary>
    /// Accuracy after each round, 0 (the first samples) to rounds: the share of all samples right by then.
    /// Round r samples one retry of each still-wrong sample with its latest attempt and feedback in the
    /// prompt; without feedback (the control), a fresh sample of the bare problem, so what the feedback
    /// adds is the difference between the two curves.
    /// </summary>
    public static async Task<IReadOnlyList<double>> RunAsync(IRolloutEngine engine, long version, IReadOnlyList<RolloutGroup> first, int rounds,
        SamplingSpec sampling, long seed, IReadOnlyList<RewardSpec> rewards, string correctness, CancellationToken cancellation, bool feedback = true)
    {
        Problem Next(Problem problem, string attempt, RewardBreakdown score) => feedback ? Retry(problem, attempt, score, correctness) : problem;
        // One chain per sample: the problem with its latest attempt, and whether it is right yet.
        var chains = first.SelectMany(g => g.Completions.Select((c, j) => (Problem: Next(g.Problem, c.Text, g.Scores[j]), Right: g.Scores[j].Values[correctness] >= 1))).ToList();
        int total = chains.Count;
        var accuracy = new List<double> { chains.Count(c => c.Right) / (double)total };
        for (int round = 1; round <= rounds; round++)
        {
            var open = Enumerable.Range(0, total).Where(i => !chains[i].Right).ToList();
            if (open.Count > 0)
            {
                var retried = await RolloutBatches.RunAsync(engine, [.. open.Select(i => chains[i].Problem)], 1, sampling, seed + round * 1_000_003L, version, rewards, cancellation);
                for (int k = 0; k < open.Count; k++)
                {
                    var (c, score) = (retried[k].Completions[0], retried[k].Scores[0]);
                    chains[open[k]] = (Next(chains[open[k]].Problem, c.Text, score), score.Values[correctness] >= 1);
                }
            }
            accuracy.Add(chains.Count(c => c.Right) / (double)total);
        }
        return accuracy;
    }

    /// <summary>The problem with its latest attempt and the feedback on it (the reward's reason feeds code feedback only).</summary>
    static Problem Retry(Problem problem, string attempt, RewardBreakdown score, string correctness) =>
        problem with { Refinements = [new Refinement(attempt, Feedback(correctness, attempt, score.Reasons.GetValueOrDefault(correctness, "")))] };

    static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
