using Orleans.Runtime;
using RolloutCluster.Abstractions;
using RolloutCluster.Training.Engine;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Grains;

/// <summary>
/// The rollout engine over the cluster: each version is published once into the learner's
/// <see cref="WeightStore"/> (served to every silo's cache), and a request's problems are split into contiguous slices across the live
/// generators (every silo's devices), each slice sampled with the request's weights version and scored
/// on the generator's silo; a slice whose generator fails is sent to the next live one. Seeds follow
/// the problem's index in the request, so the split does not change what is sampled.
/// </summary>
public sealed class ClusterRolloutEngine(IGrainFactory grains, string job, Policy policy, WeightStore store, long epoch = 0) : IRolloutEngine
{
    const int Attempts = 3;
    readonly Lock _lock = new();
    double _weightsWaitMax, _weightsWaitSum, _publishSeconds;
    long _versionBytes;
    int _slices, _retries;
    long _next;

    public Task<long> PublishAsync(long? forgetBelow, CancellationToken cancellation)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        long version = _next++;
        store.Publish(job, version, forgetBelow, policy);
        lock (_lock)
        {
            _publishSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            _versionBytes = store.Manifest(version)!.TotalBytes;
        }
        return Task.FromResult(version);
    }

    public void ForgetPublished() => store.ForgetAll();

    public async Task<IReadOnlyList<RolloutGroup>> RolloutAsync(RolloutRequest request, CancellationToken cancellation)
    {
        var rewards = request.Rewards.Select(r => r.ToWire()).ToList();
        var generators = await LiveGeneratorsAsync();
        if (generators.Count == 0) throw new InvalidOperationException("no live generator in the cluster");
        int slices = Math.Min(generators.Count, request.Problems.Count);
        var tasks = new List<Task<GenerateResult>>(slices);
        int start = 0;
        for (int s = 0; s < slices; s++)
        {
            int count = request.Problems.Count / slices + (s < request.Problems.Count % slices ? 1 : 0);
            var problems = request.Problems.Skip(start).Take(count).ToList();
            var slice = new GenerateRequest(job, request.Version, problems.Select(p => p.ToWire()).ToList(), start,
                request.Samples, request.Sampling.ToWire(), request.Seed, rewards, problems.Select(policy.Prompt).ToList(), epoch);
            tasks.Add(GenerateAsync(slice, generators, s, cancellation));
            start += count;
        }
        var results = await Task.WhenAll(tasks);
        lock (_lock)
        {
            foreach (var r in results) (_weightsWaitMax, _weightsWaitSum, _slices) = (Math.Max(_weightsWaitMax, r.WeightsSeconds), _weightsWaitSum + r.WeightsSeconds, _slices + 1);
        }
        return results.SelectMany(r => r.Groups).Select(g => g.FromWire()).ToList();
    }

    /// <summary>
    /// timing/weights_wait_max_s: the longest a generator waited for the requested weights version
    /// (its silo fetching it from the learner; near 0 once cached), i.e. the broadcast's critical path;
    /// timing/weights_publish_s: packing and checksumming the new version on the learner, before that;
    /// weights/version_bytes: what each silo fetches per version (under LoRA, the adapters alone).
    /// </summary>
    public RolloutCluster.Algorithms.Metrics TakeMetrics()
    {
        lock (_lock)
        {
            var metrics = new RolloutCluster.Algorithms.Metrics
            {
                ["timing/weights_wait_max_s"] = _weightsWaitMax,
                ["timing/weights_wait_mean_s"] = _slices > 0 ? _weightsWaitSum / _slices : 0,
                ["timing/weights_publish_s"] = _publishSeconds,
                ["rollout/slice_retries"] = _retries,
                ["weights/version_bytes"] = _versionBytes,
            };
            (_weightsWaitMax, _weightsWaitSum, _publishSeconds, _slices, _retries) = (0, 0, 0, 0, 0);
            return metrics;
        }
    }

    async Task<GenerateResult> GenerateAsync(GenerateRequest slice, IReadOnlyList<string> generators, int first, CancellationToken cancellation)
    {
        for (int attempt = 0; ; attempt++)
        {
            var generator = generators[(first + attempt) % generators.Count];
            try
            {
                return await grains.GetGrain<IGeneratorGrain>(generator).GenerateAsync(slice, cancellation);
            }
            catch (Exception) when (attempt + 1 < Math.Min(Attempts, generators.Count + 1) && !cancellation.IsCancellationRequested)
            {
                // The silo may be gone; the next generator (on another silo if there is one) takes the slice.
                lock (_lock) _retries++;
            }
        }
    }

    async Task<IReadOnlyList<string>> LiveGeneratorsAsync()
    {
        var registered = await grains.GetGrain<IGeneratorDirectoryGrain>(0).GetAsync();
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var live = hosts.Keys.Select(s => s.ToParsableString()).ToHashSet(StringComparer.Ordinal);
        return registered.Where(r => live.Contains(r.Silo)).Select(r => r.Generator).ToList();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
