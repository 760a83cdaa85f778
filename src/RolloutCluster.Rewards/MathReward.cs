using RolloutCluster.Rewards.Answers;

namespace RolloutCluster.Rewards;

/// <summary>Decides answers the rules cannot (an LLM judge, a CAS, a person): true, false, or null for "don't know".</summary>
public interface IAnswerJudge
{
    /// <summary>Whether prediction states the same answer as reference for this question.</summary>
    ValueTask<bool?> JudgeAsync(string prediction, string reference, string? question, CancellationToken cancellation);
}

/// <summary>
/// Accuracy of a final answer: 1 when the extracted answer (<see cref="AnswerExtraction"/>) is
/// equivalent to the reference (<see cref="MathEquivalence"/>), else 0. Cases the rules cannot decide
/// go to the judge when one is configured, and score 0 otherwise, with that reason.
/// </summary>
public sealed class MathReward(string name = "math", IAnswerJudge? judge = null) : IRewardFunction
{
    public string Name => name;

    public async ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        if (input.Answer is null) return new RewardResult(0, "no reference answer for this problem");
        var predicted = AnswerExtraction.Extract(input.Completion);
        if (predicted is null) return new RewardResult(0, "no final answer found (<answer>, \\boxed{}, ####, \"the answer is\")");
        if (predicted.Length == 0) return new RewardResult(0, "the final answer is empty");
        var reference = AnswerExtraction.Extract(input.Answer) ?? input.Answer;
        switch (MathEquivalence.Equivalent(predicted, reference))
        {
            case true:
                return new RewardResult(1, $"correct: {Shorten(predicted)}");
            case false:
                return new RewardResult(0, $"wrong: {Shorten(predicted)}, expected {Shorten(reference)}");
        }
        if (judge is null) return new RewardResult(0, $"undecided by the rules: {Shorten(predicted)} vs {Shorten(reference)} (no judge configured)");
        var verdict = await judge.JudgeAsync(predicted, reference, input.Prompt, cancellation);
        return verdict switch
        {
            true => new RewardResult(1, $"judged correct: {Shorten(predicted)}"),
            false => new RewardResult(0, $"judged wrong: {Shorten(predicted)}, expected {Shorten(reference)}"),
            null => new RewardResult(0, $"undecided by the rules and the judge: {Shorten(predicted)} vs {Shorten(reference)}"),
        };
    }

    static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
