namespace RolloutCluster.Rewards;

/// <summary>What a reward function sees of one completion.</summary>
/// <param name="Completion">The model's text, without the prompt.</param>
/// <param name="Answer">The reference answer, for tasks that have one.</param>
/// <param name="Prompt">The prompt (the question, or for code the text the completion continues).</param>
/// <param name="Tests">Test code run after the program (HumanEval's check function), for code tasks.</param>
/// <param name="EntryPoint">The function the tests call: check(entry_point) runs after Tests.</param>
/// <param name="TestCases">Independent test statements, for a fraction-of-tests-passed score.</param>
/// <param name="Context">The prompt exactly as the policy read it (template or chat template rendered), for a reward model.</param>
/// <param name="Effort">The reasoning effort the prompt asked for (<see cref="Effort"/>), if any.</param>
public sealed record RewardInput(string Completion, string? Answer = null, string? Prompt = null, string? Tests = null,
    string? EntryPoint = null, IReadOnlyList<string>? TestCases = null, string? Context = null, string? Effort = null);

/// <summary>A score and, always, the reason for it (shown in logs and `rollout score` output).</summary>
public sealed record RewardResult(double Value, string Reason);

/// <summary>A rule-based (or external) scorer of completions, chosen by name in job files.</summary>
public interface IRewardFunction
{
    /// <summary>The name job files use.</summary>
    string Name { get; }

    /// <summary>Scores one completion. Never throws for bad model output: that is a low score with a reason.</summary>
    ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default);

    /// <summary>
    /// Whether the function scores many completions at once (a reward model's forward pass over a
    /// batch); a reward set then hands it every completion of a request in one call instead of one by one.
    /// </summary>
    bool Batched => false;

    /// <summary>Scores completions together, in order; by default one by one.</summary>
    async ValueTask<IReadOnlyList<RewardResult>> ScoreBatchAsync(IReadOnlyList<RewardInput> inputs, CancellationToken cancellation = default)
    {
        var results = new RewardResult[inputs.Count];
        for (int i = 0; i < inputs.Count; i++) results[i] = await ScoreAsync(inputs[i], cancellation);
        return results;
    }
}
