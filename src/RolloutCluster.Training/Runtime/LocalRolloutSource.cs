using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;
using TorchSharp;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// Rollouts in this process: a replica of the policy loaded with exactly the requested weights
/// version (published versions are kept as packed buffers), sampling one request at a time, scored
/// here. Requests run on a worker of their own, so with max_staleness &gt; 0 sampling overlaps the
/// learner's step; the learner's model is never read while it is being updated.
/// </summary>
public sealed class LocalRolloutSource(Policy policy, RewardSet rewards, OverlongSpec overlong, bool overlap = true) : IRolloutSource
{
    readonly Dictionary<long, (byte[] Buffer, WeightManifest Manifest)> _versions = [];
    readonly Lock _lock = new();
    readonly SemaphoreSlim _worker = new(1, 1);
    CausalLm? _replica;
    long _replicaVersion = -1;

    public Task PublishAsync(long version, long oldestNeeded, CancellationToken cancellation)
    {
        var packed = WeightPack.Pack(policy.Model);
        lock (_lock)
        {
            _versions[version] = packed;
            foreach (var old in _versions.Keys.Where(v => v < oldestNeeded).ToList()) _versions.Remove(old);
        }
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<ScoredGroup>> SampleAsync(RolloutRequest request, CancellationToken cancellation)
    {
        // Synchronous stages sample on the learner's own thread (no overlap to gain, and torch runs
        // fastest on one thread); with max_staleness > 0 a worker thread overlaps the learner.
        if (!overlap) return await SampleAndScore(request, cancellation);
        await _worker.WaitAsync(cancellation);
        try
        {
            return await Task.Factory.StartNew(() => SampleAndScore(request, cancellation), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
        finally
        {
            _worker.Release();
        }
    }

    async Task<IReadOnlyList<ScoredGroup>> SampleAndScore(RolloutRequest request, CancellationToken cancellation)
    {
        var replica = Replica(request.Version);
        var groups = GroupSampler.Sample(new Policy(replica, policy.Tokenizer, policy.Template), request.Problems, request.GroupSize, request.Sampling,
            request.Seed, request.Version);
        var scored = new List<ScoredGroup>(groups.Count);
        foreach (var g in groups) scored.Add(await GroupScoring.ScoreAsync(g, rewards, overlong, request.Sampling.MaxNewTokens, cancellation));
        return scored;
    }

    CausalLm Replica(long version)
    {
        if (_replica is null)
        {
            _replica = new CausalLm(policy.Model.Config);
            _replica.to(policy.Model.DType).to(policy.Model.Device);
        }
        if (_replicaVersion != version)
        {
            (byte[] Buffer, WeightManifest Manifest) packed;
            lock (_lock)
            {
                if (!_versions.TryGetValue(version, out packed))
                    throw new InvalidOperationException($"weights version {version} was never published or is already forgotten");
            }
            WeightPack.Unpack(_replica, packed.Buffer, packed.Manifest);
            _replicaVersion = version;
        }
        return _replica;
    }

    public ValueTask DisposeAsync()
    {
        _replica?.Dispose();
        _worker.Dispose();
        return ValueTask.CompletedTask;
    }
}
