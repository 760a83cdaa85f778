using RolloutCluster.Data;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// Many problems through the engine at once (evaluation, rejection sampling): requests of
/// <see cref="Chunk"/> problems, <see cref="InFlight"/> at a time, so they spread over the cluster's
/// generators while each generator's KV cache stays small. Each row's seed depends only on (seed,
/// problem, sample), so the result does not depend on how requests were spread.
/// </summary>
public static class RolloutBatches
{
    /// <summary>Problems per request.</summary>
    public const int Chunk = 64;

    /// <summary>Requests in flight at once (enough to keep several generators busy).</summary>
    public const int InFlight = 8;

    /// <summary>The groups of all <paramref name="problems"/>, in their order.</summary>
    public static async Task<IReadOnlyList<RolloutGroup>> RunAsync(IRolloutEngine engine, IReadOnlyList<Problem> problems, int samples, SamplingSpec sampling,
        long seed, long version, IReadOnlyList<RewardSpec> rewards, CancellationToken cancellation)
    {
        var starts = Enumerable.Range(0, (problems.Count + Chunk - 1) / Chunk).Select(c => c * Chunk).ToList();
        var results = new IReadOnlyList<RolloutGroup>[starts.Count];
        // Started from the caller's context (the torch thread for an in-process engine, which then
        // samples inline), at most InFlight at once.
        async Task Run(int i)
        {
            var part = problems.Skip(starts[i]).Take(Chunk).ToList();
            results[i] = await engine.RolloutAsync(new RolloutRequest(part, samples, sampling, seed + starts[i], version, rewards), cancellation);
        }
        var pending = new List<Task>();
        for (int i = 0; i < starts.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            if (pending.Count >= InFlight)
            {
                var done = await Task.WhenAny(pending);
                pending.Remove(done);
                await done;
            }
            pending.Add(Run(i));
        }
        await Task.WhenAll(pending);
        return [.. results.SelectMany(r => r)];
    }
}
