using System.Globalization;

namespace RolloutCluster.Rewards;

/// <summary>A loaded neural reward model: logits for (context, completion) pairs, scored together.</summary>
public interface IRewardModelScorer
{
    /// <summary>What of a completion the model was trained to read: "trace" or "answer".</summary>
    string Scope { get; }

    /// <summary>One logit per (context, completion), in order; sigmoid(logit) estimates P(correct).</summary>
    ValueTask<IReadOnlyList<double>> ScoreAsync(IReadOnlyList<(string Context, string Completion)> items, CancellationToken cancellation = default);
}

/// <summary>Opens reward models by directory (implemented where the model code lives; a host shares loaded models).</summary>
public interface IRewardModelSource
{
    /// <summary>The reward model saved in dir; a directory that holds none throws <see cref="ArgumentException"/> saying why.</summary>
    IRewardModelScorer Open(string dir);
}

/// <summary>
/// The <c>model</c> reward: a trained outcome reward model's score of each completion, batched (one
/// forward pass per chunk of a request's completions). "probability" gives sigmoid(logit) in [0, 1],
/// on the scale of the rule rewards; "logit" the raw score. DeepSeek-R1 used rule rewards for
/// reasoning because a neural reward model invites hacking: this is for the general data of its last
/// stage, and for measuring that hacking.
/// </summary>
public sealed class ModelReward(IRewardModelScorer scorer, string path, bool probability = true) : IRewardFunction
{
    public static readonly IReadOnlyList<string> Outputs = ["probability", "logit"];

    public string Name => "model";

    public bool Batched => true;

    public async ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default) =>
        (await ScoreBatchAsync([input], cancellation))[0];

    public async ValueTask<IReadOnlyList<RewardResult>> ScoreBatchAsync(IReadOnlyList<RewardInput> inputs, CancellationToken cancellation = default)
    {
        var logits = await scorer.ScoreAsync([.. inputs.Select(i => (i.Context ?? i.Prompt ?? "", scorer.Scope == "answer" ? ScopedReward.AnswerPart(i.Completion) : i.Completion))], cancellation);
        return [.. logits.Select(logit =>
        {
            double value = probability ? 1 / (1 + Math.Exp(-logit)) : logit;
            return new RewardResult(value, string.Create(CultureInfo.InvariantCulture, $"reward model {Path.GetFileName(path.TrimEnd('/'))} ({scorer.Scope}): logit {logit:F3}"));
        })];
    }
}
