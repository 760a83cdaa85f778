using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RolloutCluster.Abstractions;
using RolloutCluster.Model.Weights;

namespace RolloutCluster.Grains;

/// <summary>A weights version as this silo holds it: the manifest and the whole, checksum-verified buffer.</summary>
public sealed record CachedWeights(WeightsManifestWire Manifest, byte[] Buffer)
{
    public WeightManifest ToManifest() =>
        new(Manifest.Tensors.Select(t => new PackedTensor(t.Name, t.DType, t.Shape, t.Offset, t.Length)).ToList(), Manifest.TotalBytes, Manifest.Sha256);
}

/// <summary>
/// This silo's copy of published weights: each (job, version) is fetched from the job's learner once,
/// in chunks well under Orleans' message limit, however many local generators ask at once, and kept
/// for the few most recent versions.
/// </summary>
public sealed partial class WeightCache(IGrainFactory grains, ILogger<WeightCache> logger)
{
    const int KeptVersions = 4;
    readonly Dictionary<(string Job, long Epoch, long Version), Task<CachedWeights>> _entries = [];
    readonly Lock _lock = new();

    /// <summary>Times a version was fetched from its learner (once per silo per version).</summary>
    public int Fetches { get; private set; }

    /// <summary>The weights of (job, epoch, version), fetched from the job's learner if this silo does not have them yet.</summary>
    public Task<CachedWeights> GetAsync(string job, long epoch, long version)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((job, epoch, version), out var existing) && !existing.IsFaulted) return existing;
            var fetch = FetchAsync(job, version);
            _entries[(job, epoch, version)] = fetch;
            foreach (var old in _entries.Keys.Where(k => k.Job == job).OrderByDescending(k => (k.Epoch, k.Version)).Skip(KeptVersions).ToList()) _entries.Remove(old);
            return fetch;
        }
    }

    async Task<CachedWeights> FetchAsync(string job, long version)
    {
        var learner = grains.GetGrain<ILearnerGrain>(job);
        var manifest = await learner.GetWeightsManifestAsync(version)
            ?? throw new InvalidOperationException($"job {job}: weights version {version} is no longer published");
        var buffer = new byte[manifest.TotalBytes];
        var chunks = Enumerable.Range(0, manifest.ChunkCount).ToList();
        // A few chunks at a time: overlapping transfers without flooding the learner's silo.
        await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (index, _) =>
        {
            var chunk = await learner.GetWeightsChunkAsync(version, index);
            long offset = (long)index * manifest.ChunkBytes;
            long expected = Math.Min(manifest.ChunkBytes, manifest.TotalBytes - offset);
            if (chunk.Length != expected) throw new InvalidDataException($"job {job} v{version}: chunk {index} has {chunk.Length} bytes, expected {expected}");
            chunk.CopyTo(buffer, offset);
        });
        var sha = Convert.ToHexString(SHA256.HashData(buffer));
        if (!string.Equals(sha, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"job {job} v{version}: checksum {sha} does not match the manifest's {manifest.Sha256}");
        Fetches++;
        LogFetched(logger, job, version, manifest.TotalBytes, manifest.ChunkCount);
        return new CachedWeights(manifest, buffer);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fetched job {Job} weights v{Version}: {Bytes} bytes in {Chunks} chunk(s)")]
    static partial void LogFetched(ILogger logger, string job, long version, long bytes, int chunks);
}
