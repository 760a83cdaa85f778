using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RolloutCluster.Abstractions;
using RolloutCluster.Model.Weights;

namespace RolloutCluster.Grains.Weights;

/// <summary>A weights version as this silo holds it: the manifest and the whole, checksum-verified buffer (the cache entry's reference).</summary>
public sealed record CachedWeights(WeightsManifestWire Manifest, PooledBuffer Buffer)
{
    /// <summary>The layout in the model library's terms, for <see cref="WeightPack.Unpack"/>.</summary>
    public static WeightManifest ToManifest(WeightsManifestWire manifest) =>
        new(manifest.Tensors.Select(t => new PackedTensor(t.Name, t.DType, t.Shape, t.Offset, t.Length)).ToList(), manifest.TotalBytes, manifest.Checksum);
}

/// <summary>
/// This silo's copy of published weights: each (job, version) is fetched once, however many local
/// generators ask at once, and kept for the few most recent versions. Where it comes from, fastest
/// first: the learner's own buffer when the learner is on this silo; the learner silo's
/// <see cref="WeightServer"/> over TCP; 4 MB chunks through grain calls (TLS clusters, or when the
/// TCP transfer fails — logged, never fatal). Buffers come from the silo's <see cref="WeightBufferPool"/>
/// and go back to it once a version is dropped and no generator holds a lease on it.
/// </summary>
public sealed partial class WeightCache(IGrainFactory grains, PublishedWeights published, WeightBufferPool pool, ILogger<WeightCache> logger)
{
    /// <summary>
    /// Versions kept per job: 4 while they are small, 1 (the newest) once a version passes
    /// <see cref="LargeVersionBytes"/>: beside the generator's own replica, every cached copy of a 2 GB
    /// model is 2 GB more on every silo (with two kept, a 0.5B model's 3-silo job did not fit 24 GB). An
    /// older version asked for again (stale rollouts) is fetched again.
    /// </summary>
    int KeptVersions => Volatile.Read(ref _lastBytes) > LargeVersionBytes ? 1 : 4;

    public const long LargeVersionBytes = 256L << 20;
    long _lastBytes;
    readonly Dictionary<(string Job, long Epoch, long Version), Task<CachedWeights>> _entries = [];
    readonly Lock _lock = new();

    /// <summary>How the latest version was obtained: "local", "tcp" or "chunks".</summary>
    public string? LastRoute { get; private set; }

    /// <summary>The weights of (job, epoch, version), fetched from the job's learner if this silo does not have them yet.</summary>
    public Task<CachedWeights> GetAsync(string job, long epoch, long version)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((job, epoch, version), out var existing) && !existing.IsFaulted) return existing;
            // Older versions past the kept number go before the fetch starts, so it can receive into
            // their buffer (back in the pool once no generator reads it) rather than into fresh memory.
            // A LoRA job's base (WeightStore.BaseVersion) stays while newer versions come and go; an older epoch's base goes with its epoch.
            (string Job, long Epoch, long Version) key = (job, epoch, version);
            foreach (var old in _entries.Keys.Append(key).Where(k => k.Job == job && (k.Version != WeightStore.BaseVersion || k.Epoch < epoch))
                         .OrderByDescending(k => (k.Epoch, k.Version)).Skip(KeptVersions).Where(k => k != key).ToList())
                if (_entries.Remove(old, out var dropped))
                {
                    if (dropped.IsCompletedSuccessfully) dropped.Result.Buffer.Release();
                    else _ = dropped.ContinueWith(t => t.Result.Buffer.Release(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                }
            var fetch = FetchAsync(job, version);
            _entries[key] = fetch;
            return fetch;
        }
    }

    /// <summary>
    /// A lease on (job, epoch, version), fetched if need be: its buffer is not reused until the lease
    /// is disposed. (If the version was dropped and its buffer reused between fetch and lease, it is fetched again.)
    /// </summary>
    public async Task<WeightLease> LeaseAsync(string job, long epoch, long version)
    {
        for (int attempt = 1; ; attempt++)
        {
            var task = GetAsync(job, epoch, version);
            var weights = await task;
            if (weights.Buffer.TryAcquire()) return new WeightLease(weights.Manifest, weights.Buffer);
            if (attempt == 3) throw new InvalidOperationException($"job {job} v{version}: the weights were dropped from this silo's cache {attempt} times before they could be read");
            lock (_lock)
            {
                if (_entries.TryGetValue((job, epoch, version), out var current) && current == task) _entries.Remove((job, epoch, version));
            }
        }
    }

    async Task<CachedWeights> FetchAsync(string job, long version)
    {
        var learner = grains.GetGrain<ILearnerGrain>(job);
        var manifest = await learner.GetWeightsManifestAsync(version)
            ?? throw new InvalidOperationException($"job {job}: weights version {version} is no longer published");
        // The learner is on this silo: share its buffer (never written while kept).
        if (published.Find(job)?.Share(version) is { } local)
        {
            if (local.Manifest.Checksum == manifest.Checksum)
            {
                LastRoute = "local";
                Volatile.Write(ref _lastBytes, manifest.TotalBytes);
                return new CachedWeights(manifest, local.Buffer);
            }
            local.Buffer.Release();
        }
        var clock = Stopwatch.StartNew();
        var rented = pool.Rent(manifest.TotalBytes);
        try
        {
            string route = "tcp";
            bool received = false;
            if (manifest is { TransferEndpoint: { } endpoint, TransferToken: { } token })
            {
                try
                {
                    // On the thread pool, not the calling grain's scheduler: a version is thousands of socket
                    // reads, each of which would otherwise queue behind the activation's turn.
                    var checksum = await Task.Run(() => WeightTransfer.FetchIntoAsync(endpoint, token, job, version, rented.Buffer, CancellationToken.None));
                    Verify(job, version, checksum, manifest);
                    received = true;
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidDataException or WeightTransferException)
                {
                    LogTcpFailed(logger, job, version, endpoint, e.Message);
                }
            }
            if (!received)
            {
                await FetchChunksAsync(learner, job, version, manifest, rented.Buffer);
                Verify(job, version, rented.Buffer.Checksum(), manifest);
                route = "chunks";
            }
            LastRoute = route;
            Volatile.Write(ref _lastBytes, manifest.TotalBytes);
            LogFetched(logger, job, version, manifest.TotalBytes, route, clock.Elapsed.TotalMilliseconds);
            return new CachedWeights(manifest, rented);
        }
        catch
        {
            rented.Release();
            throw;
        }
    }

    static async Task FetchChunksAsync(ILearnerGrain learner, string job, long version, WeightsManifestWire manifest, WeightBuffer buffer)
    {
        // A few chunks at a time: overlapping transfers without flooding the learner's silo.
        await Parallel.ForEachAsync(Enumerable.Range(0, manifest.ChunkCount), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (index, _) =>
        {
            var chunk = await learner.GetWeightsChunkAsync(version, index);
            long offset = (long)index * manifest.ChunkBytes;
            long expected = Math.Min(manifest.ChunkBytes, manifest.TotalBytes - offset);
            if (chunk.Length != expected) throw new InvalidDataException($"job {job} v{version}: chunk {index} has {chunk.Length} bytes, expected {expected}");
            buffer.Write(offset, chunk);
        });
    }

    static void Verify(string job, long version, string checksum, WeightsManifestWire manifest)
    {
        if (!string.Equals(checksum, manifest.Checksum, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"job {job} v{version}: checksum {checksum} does not match the manifest's {manifest.Checksum}");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fetched job {Job} weights v{Version}: {Bytes} bytes by {Route} in {Milliseconds:F1} ms")]
    static partial void LogFetched(ILogger logger, string job, long version, long bytes, string route, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} weights v{Version}: TCP transfer from {Endpoint} failed ({Reason}); fetching in chunks through the cluster instead")]
    static partial void LogTcpFailed(ILogger logger, string job, long version, string endpoint, string reason);
}
