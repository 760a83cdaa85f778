using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Runtime;

/// <summary>A scored group: its completions' reward breakdowns and the totals used for advantages.</summary>
public sealed record ScoredGroup(SampledGroup Group, IReadOnlyList<RewardBreakdown> Scores, IReadOnlyList<double> Rewards);

/// <summary>
/// Problems to sample G completions for, with exactly the given weights version; row seeds derive
/// from Seed and each row's index in the request, however the request is split.
/// </summary>
public sealed record RolloutRequest(IReadOnlyList<Problem> Problems, int GroupSize, SamplingSpec Sampling, long Seed, long Version);

/// <summary>
/// Where rollouts come from: this process (<see cref="LocalRolloutSource"/>) or the cluster's
/// generator and verifier grains. The learner publishes each weights version; requests name the
/// version to sample with, so results do not depend on timing.
/// </summary>
public interface IRolloutSource : IAsyncDisposable
{
    /// <summary>Samples and scores a group per problem with the request's weights version.</summary>
    Task<IReadOnlyList<ScoredGroup>> SampleAsync(RolloutRequest request, CancellationToken cancellation);

    /// <summary>Makes the policy's current weights available as version; versions below oldestNeeded may be forgotten.</summary>
    Task PublishAsync(long version, long oldestNeeded, CancellationToken cancellation);

    /// <summary>
    /// The source's own measurements since the last call, merged into the step's metrics: every source
    /// reports rollout/slice_retries (work re-sent after a generator failed); the cluster adds timings.
    /// </summary>
    Metrics TakeMetrics() => new() { ["rollout/slice_retries"] = 0 };
}

/// <summary>Scores sampled groups with a reward set, adding the soft overlong penalty when the stage asks for it.</summary>
public static class GroupScoring
{
    public static async Task<ScoredGroup> ScoreAsync(SampledGroup group, RewardSet rewards, OverlongSpec overlong, int maxNewTokens, CancellationToken cancellation)
    {
        var scores = new List<RewardBreakdown>(group.Completions.Count);
        var totals = new List<double>(group.Completions.Count);
        foreach (var c in group.Completions)
        {
            var breakdown = await rewards.ScoreAsync(new RewardInput(c.Text, group.Problem.Answer, group.Problem.Question), cancellation);
            scores.Add(breakdown);
            totals.Add(breakdown.Total + Penalty(c, overlong, maxNewTokens));
        }
        return new ScoredGroup(group, scores, totals);
    }

    /// <summary>DAPO's soft overlong penalty for a completion when the stage asks for it, else 0. A truncated completion counts as one token over.</summary>
    public static double Penalty(Model.Sampling.Completion c, OverlongSpec overlong, int maxNewTokens) => overlong.Mode == "penalty"
        ? Algorithms.GroupFilters.SoftOverlongPenalty(c.TokenIds.Length + (c.Finish == Model.Sampling.FinishReason.Length ? 1 : 0), maxNewTokens, overlong.Buffer)
        : 0;
}
