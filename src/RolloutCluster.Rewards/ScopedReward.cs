namespace RolloutCluster.Rewards;

/// <summary>
/// What of a completion a reward reads (every reward's <c>scope</c> option; DeepSeek-R1 scored
/// helpfulness on the final answer and harmlessness on the whole response): "trace", all of it (the
/// default), or "answer", the part after the reasoning (after the last &lt;/think&gt;; a completion without
/// one is all answer).
/// </summary>
public sealed class ScopedReward(IRewardFunction inner) : IRewardFunction
{
    public const string Option = "scope";

    public static readonly IReadOnlyList<string> Scopes = ["trace", "answer"];

    public string Name => inner.Name;

    public ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default) =>
        inner.ScoreAsync(input with { Completion = AnswerPart(input.Completion) }, cancellation);

    public bool Batched => inner.Batched;

    public ValueTask<IReadOnlyList<RewardResult>> ScoreBatchAsync(IReadOnlyList<RewardInput> inputs, CancellationToken cancellation = default) =>
        inner.ScoreBatchAsync([.. inputs.Select(i => i with { Completion = AnswerPart(i.Completion) })], cancellation);

    /// <summary>The text after the last &lt;/think&gt;, or all of it without one.</summary>
    public static string AnswerPart(string completion)
    {
        int end = completion.LastIndexOf("</think>", StringComparison.Ordinal);
        return end < 0 ? completion : completion[(end + "</think>".Length)..];
    }
}
