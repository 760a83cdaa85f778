using System.Globalization;
using System.Numerics;
using RolloutCluster.Rewards.Answers;

namespace RolloutCluster.Rewards;

/// <summary>
/// Strict accuracy for integer-answer tasks (the built-in arithmetic): 1 when the extracted answer is
/// exactly the reference integer (an optional sign, nothing else), else 0. <see cref="MathReward"/>
/// is the lenient, general one.
/// </summary>
public sealed class AccuracyReward : IRewardFunction
{
    public string Name => "accuracy";

    public ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        if (input.Answer is null) return ValueTask.FromResult(new RewardResult(0, "no reference answer for this problem"));
        var predicted = AnswerExtraction.Extract(input.Completion);
        if (predicted is null) return ValueTask.FromResult(new RewardResult(0, "no final answer found"));
        if (!TryInteger(input.Answer, out var gold)) return ValueTask.FromResult(new RewardResult(0, $"reference answer '{input.Answer}' is not an integer"));
        if (!TryInteger(predicted, out var value)) return ValueTask.FromResult(new RewardResult(0, $"answer '{Shorten(predicted)}' is not an integer"));
        return ValueTask.FromResult(value == gold
            ? new RewardResult(1, $"correct: {value}")
            : new RewardResult(0, $"wrong: {value}, expected {gold}"));
    }

    static bool TryInteger(string text, out BigInteger value) =>
        BigInteger.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
