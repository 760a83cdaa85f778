using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using RolloutCluster.Rewards;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// Rollouts in this process: published versions are kept as packed buffers and a
/// <see cref="PolicyReplica"/> loads exactly the requested one; rewards come from the job's
/// <see cref="RewardSets"/>. With overlap, requests run on a worker of their own, so sampling ahead
/// (GRPO with max_staleness &gt; 0) overlaps the learner's step; the learner's model is never read
/// while it is being updated.
/// </summary>
public sealed class LocalRolloutEngine(Policy policy, RewardSets rewards, bool overlap = false) : IRolloutEngine
{
    readonly Dictionary<long, (WeightBuffer Buffer, WeightManifest Manifest)> _versions = [];
    readonly Lock _lock = new();
    readonly SemaphoreSlim _worker = new(1, 1);
    PolicyReplica? _replica;
    (WeightBuffer Buffer, WeightManifest Manifest)? _base;
    long _next, _versionBytes;

    /// <summary>Whether requests run on a worker thread of their own (set by a stage that samples ahead of its learner).</summary>
    public bool Overlap { get; set; } = overlap;

    /// <summary>
    /// Packs the policy as a new version. Under LoRA the frozen base is packed once and each version
    /// holds only the adapters (what a cluster would send per version; weights/version_bytes).
    /// </summary>
    public Task<long> PublishAsync(long? forgetBelow, CancellationToken cancellation)
    {
        if (policy.Model.Lora is not null) _base ??= WeightPack.Pack(policy.Model, policy.BaseParts.Include, policy.BaseParts.DType);
        var packed = WeightPack.Pack(policy.Model, policy.VersionParts.Include, policy.VersionParts.DType);
        _versionBytes = packed.Manifest.TotalBytes;
        lock (_lock)
        {
            long version = _next++;
            _versions[version] = packed;
            if (forgetBelow is { } oldest)
                foreach (var old in _versions.Keys.Where(v => v < oldest && v != version).ToList()) _versions.Remove(old);
            return Task.FromResult(version);
        }
    }

    public void ForgetPublished()
    {
        lock (_lock) _versions.Clear();
    }

    public async Task<IReadOnlyList<RolloutGroup>> RolloutAsync(RolloutRequest request, CancellationToken cancellation)
    {
        // Synchronous stages sample on the learner's own thread (no overlap to gain, and torch runs
        // fastest on one thread); a stage that samples ahead gets a worker thread.
        if (!Overlap) return await SampleAndScore(request, cancellation);
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

    async Task<IReadOnlyList<RolloutGroup>> SampleAndScore(RolloutRequest request, CancellationToken cancellation)
    {
        var set = await rewards.GetAsync(request.Rewards, cancellation);
        var model = Replica(request.Version);
        var prompts = request.Problems.Select(policy.Prompt).ToList();
        var groups = GroupSampler.Sample(new Policy(model, policy.Tokenizer, PromptTemplate.Plain), request.Problems, request.Samples, request.Sampling,
            request.Seed, request.Version, prompts: prompts);
        return await GroupSampler.ScoreAsync(groups, set, policy.Tokenizer, cancellation);
    }

    CausalLm Replica(long version)
    {
        _replica ??= new PolicyReplica(policy.Model.Config, policy.SampleDType, policy.Model.Device, policy.Model.Lora);
        if (_base is { } frozen) _replica.LoadBase(frozen.Buffer, frozen.Manifest);
        (WeightBuffer Buffer, WeightManifest Manifest) packed;
        lock (_lock)
        {
            if (!_versions.TryGetValue(version, out packed))
                throw new InvalidOperationException($"weights version {version} was never published or is already forgotten");
        }
        return _replica.Load(version, packed.Buffer, packed.Manifest);
    }

    /// <summary>weights/version_bytes: the size of the latest published version (under LoRA, its adapters).</summary>
    public Metrics TakeMetrics() => new() { ["rollout/slice_retries"] = 0, ["weights/version_bytes"] = _versionBytes };

    public ValueTask DisposeAsync()
    {
        _replica?.Dispose();
        _worker.Dispose();
        return ValueTask.CompletedTask;
    }
}
