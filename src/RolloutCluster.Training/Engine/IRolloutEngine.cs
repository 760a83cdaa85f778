using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// Sample <paramref name="Samples"/> completions of each problem with exactly weights version
/// <paramref name="Version"/> and score them with <paramref name="Rewards"/>. Row j of problem i uses
/// the seed derived from (Seed, i · Samples + j), so results do not depend on how the request is
/// split across generators or when it runs.
/// </summary>
public sealed record RolloutRequest(IReadOnlyList<Problem> Problems, int Samples, SamplingSpec Sampling, long Seed, long Version,
    IReadOnlyList<RewardSpec> Rewards);

/// <summary>The completions of one problem, each with its reward breakdown, and the version and generator that made them.</summary>
public sealed record RolloutGroup(Problem Problem, int[] Prompt, IReadOnlyList<Completion> Completions, IReadOnlyList<RewardBreakdown> Scores,
    long WeightsVersion, string Generator = "local");

/// <summary>
/// The rollout engine every stage shares: publishes the policy's weights as versions and samples and
/// scores completions with a named version. In this process (<see cref="LocalRolloutEngine"/>) or
/// across the cluster's generator and verifier grains. It knows nothing of GRPO: advantages, dynamic
/// sampling, overlong shaping and the staleness pipeline belong to the GRPO stage.
/// </summary>
public interface IRolloutEngine : IAsyncDisposable
{
    /// <summary>
    /// Makes the policy's current weights available as the next version and returns it; versions
    /// below <paramref name="forgetBelow"/>, other than the new one, may be forgotten (null keeps what is kept).
    /// </summary>
    Task<long> PublishAsync(long? forgetBelow, CancellationToken cancellation);

    /// <summary>
    /// Nothing will sample with the versions published so far (a synchronous stage between collecting
    /// its rollouts and updating): the engine drops them now instead of at the next publish, and gives
    /// large ones' memory back, so a learner does not hold a packed copy of the model beside its
    /// gradients and optimizer state.
    /// </summary>
    void ForgetPublished();

    /// <summary>Samples and scores a group per problem with the request's weights version.</summary>
    Task<IReadOnlyList<RolloutGroup>> RolloutAsync(RolloutRequest request, CancellationToken cancellation);

    /// <summary>
    /// The engine's own measurements since the last call, merged into the step's metrics: every engine
    /// reports rollout/slice_retries (work re-sent after a generator failed); the cluster adds timings.
    /// </summary>
    Metrics TakeMetrics() => new() { ["rollout/slice_retries"] = 0 };
}

/// <summary>Publishing only when the policy changed since the last version.</summary>
public static class RolloutEngines
{
    /// <summary>A version holding the policy's current weights: the latest one if nothing changed since, else a new one.</summary>
    public static async Task<long> CurrentVersionAsync(this IRolloutEngine engine, Policy policy, CancellationToken cancellation)
    {
        if (policy.PublishedAs is { } published && published.Revision == policy.Revision) return published.Version;
        long revision = policy.Revision;
        long version = await engine.PublishAsync(null, cancellation);
        policy.PublishedAs = (version, revision);
        return version;
    }

    /// <summary>Publishes a new version of the policy's weights and records which revision it holds.</summary>
    public static async Task<long> PublishPolicyAsync(this IRolloutEngine engine, Policy policy, long? forgetBelow, CancellationToken cancellation)
    {
        long revision = policy.Revision;
        long version = await engine.PublishAsync(forgetBelow, cancellation);
        policy.PublishedAs = (version, revision);
        return version;
    }
}
