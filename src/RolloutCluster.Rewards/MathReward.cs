using System.Globalization;
using System.Numerics;

namespace RolloutCluster.Rewards;

/// <summary>
/// Accuracy of a final answer: 1 when the extracted answer equals the reference, else 0. Integers
/// compare exactly (an optional sign, no other characters).
/// </summary>
public sealed class MathReward(string name = "math") : IRewardFunction
{
    public string Name => name;

    public ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        if (input.Answer is null) return ValueTask.FromResult(new RewardResult(0, "no reference answer for this problem"));
        var predicted = AnswerExtraction.Extract(input.Completion);
        if (predicted is null) return ValueTask.FromResult(new RewardResult(0, "no <answer> found"));
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
