using System.Text.RegularExpressions;

namespace RolloutCluster.Rewards;

/// <summary>
/// The R1-Zero format: the completion is exactly &lt;think&gt;…&lt;/think&gt; then &lt;answer&gt;…&lt;/answer&gt;
/// (whitespace allowed between and after), each tag once. 1 or 0.
/// </summary>
public sealed partial class FormatReward : IRewardFunction
{
    [GeneratedRegex(@"^\s*<think>(?:(?!<think>|</think>|<answer>|</answer>).)*</think>\s*<answer>(?:(?!<think>|</think>|<answer>|</answer>).)+</answer>\s*$", RegexOptions.Singleline)]
    private static partial Regex Template();

    public string Name => "format";

    public ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default) =>
        ValueTask.FromResult(Template().IsMatch(input.Completion)
            ? new RewardResult(1, "follows <think>…</think><answer>…</answer>")
            : new RewardResult(0, Diagnose(input.Completion)));

    static string Diagnose(string text) =>
        !text.Contains("<think>", StringComparison.Ordinal) ? "missing <think>"
        : !text.Contains("</think>", StringComparison.Ordinal) ? "missing </think>"
        : !text.Contains("<answer>", StringComparison.Ordinal) ? "missing <answer>"
        : !text.Contains("</answer>", StringComparison.Ordinal) ? "missing </answer>"
        : "tags out of order, repeated, empty answer, or text outside them";
}
