using System.Security.Cryptography;
using System.Text.Json;
using RolloutCluster.Abstractions;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using RolloutCluster.Training.Engine;

namespace RolloutCluster.Grains.Weights;

/// <summary>
/// The weights versions one learner activation has published and still keeps (enough for the
/// staleness bound), packed once. Served whole over TCP by this silo's <see cref="WeightServer"/>
/// (the manifest names the endpoint and this store's token) and in chunks of <see cref="ChunkBytes"/>
/// through grain calls — well under Orleans' 100 MiB message limit — where that is not available.
/// Written by the learner's training thread, read by grain calls and the weight server, each under a
/// lease (<see cref="Borrow"/>), so a dropped version's buffer is packed into again only once nobody reads it.
/// </summary>
public sealed class WeightStore(Func<string?> transferEndpoint, WeightBufferPool pool)
{
    public const int ChunkBytes = 4 << 20;
    readonly Dictionary<long, (WeightsManifestWire Manifest, PooledBuffer Buffer)> _versions = [];
    readonly Lock _lock = new();

    /// <summary>A secret per learner activation: only callers that got a manifest through the cluster can fetch over TCP.</summary>
    public string Token { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The version number under which a LoRA job's frozen base weights are kept (never dropped).</summary>
    public const long BaseVersion = -1;

    /// <summary>
    /// Packs the policy as version; versions below forgetBelow (other than this one and the base) are
    /// dropped. Under LoRA the base is packed once, as <see cref="BaseVersion"/>, and each version
    /// holds only the adapters: a fraction of a percent of the model per step instead of all of it.
    /// </summary>
    public void Publish(string job, long version, long? forgetBelow, Policy policy)
    {
        var model = policy.Model;
        _tokenizer ??= new TokenizerWire(TokenizerJson.ToJson(policy.Tokenizer), policy.Tokenizer.Decode([policy.Tokenizer.EosId]));
        string configJson = JsonSerializer.Serialize(model.Config), dtype = DTypes.ToConfigName(policy.SampleDType);
        string? loraJson = model.Lora is { } lora ? JsonSerializer.Serialize(lora) : null;
        // Versions no longer needed go before the new one is packed, so their buffer can take it: a learner
        // holds one packed copy at a time under max_staleness 0, not two (2 GB at Qwen2.5-0.5B's size).
        Forget(forgetBelow ?? long.MinValue, keep: version);
        if (loraJson is not null && Manifest(BaseVersion) is null)
        {
            var (baseBuffer, baseManifest) = Pack(model, policy.BaseParts.Include, policy.BaseParts.DType);
            Keep(BaseVersion, Describe(job, BaseVersion, configJson, baseManifest, dtype), baseBuffer);
        }
        var (buffer, manifest) = Pack(model, policy.VersionParts.Include, policy.VersionParts.DType);
        var wire = Describe(job, version, configJson, manifest, dtype) with { LoraConfigJson = loraJson, BaseChecksum = loraJson is null ? null : Manifest(BaseVersion)!.Checksum };
        Keep(version, wire, buffer);
    }

    (PooledBuffer Buffer, WeightManifest Manifest) Pack(CausalLm model, Func<string, bool>? include, TorchSharp.torch.ScalarType? dtype)
    {
        PooledBuffer? rented = null;
        var (_, manifest) = WeightPack.Pack(model, length => (rented = pool.Rent(length)).Buffer, include, dtype);
        return (rented!, manifest);
    }

    WeightsManifestWire Describe(string job, long version, string configJson, WeightManifest manifest, string dtype) =>
        Describe(job, version, configJson, manifest.Tensors.Select(t => new PackedTensorWire(t.Name, t.DType, t.Shape, t.Offset, t.Length)).ToList(),
            manifest.TotalBytes, manifest.Checksum, dtype);

    /// <summary>A version's manifest with how to fetch it: its chunking, and this silo's weight server and token when it runs.</summary>
    WeightsManifestWire Describe(string job, long version, string modelConfigJson, IReadOnlyList<PackedTensorWire> tensors,
        long totalBytes, string checksum, string dtype)
    {
        string? endpoint = transferEndpoint();
        return new WeightsManifestWire(job, version, modelConfigJson, tensors, totalBytes, checksum,
            ChunkBytes, (int)Math.Max(1, (totalBytes + ChunkBytes - 1) / ChunkBytes), dtype, endpoint, endpoint is null ? null : Token);
    }

    void Keep(long version, WeightsManifestWire wire, PooledBuffer buffer)
    {
        lock (_lock)
        {
            if (_versions.Remove(version, out var replaced)) replaced.Buffer.Release();
            _versions[version] = (wire, buffer);
        }
    }

    /// <summary>
    /// Drops every version but a LoRA job's base (readers holding leases finish first), and the pool's
    /// spare large buffers with them, their memory given back: the learner is about to need it.
    /// </summary>
    public void ForgetAll()
    {
        Forget(long.MaxValue, keep: long.MinValue);
        pool.TrimLarge();
    }

    /// <summary>Drops the versions below oldestNeeded other than keep and the base; readers holding leases finish first.</summary>
    void Forget(long oldestNeeded, long keep)
    {
        lock (_lock)
            foreach (var old in _versions.Keys.Where(v => v < oldestNeeded && v != keep && v != BaseVersion).ToList())
                if (_versions.Remove(old, out var dropped)) dropped.Buffer.Release();
    }

    /// <summary>Drops every version (the learner activation is going away); readers holding leases finish first.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var (_, buffer) in _versions.Values) buffer.Release();
            _versions.Clear();
        }
    }

    /// <summary>Keeps an already packed buffer as a version (benchmarks of the transfer alone; no model behind it).</summary>
    internal void PublishBuffer(long version, WeightBuffer buffer)
    {
        var wire = Describe("", version, "{}", [], buffer.Length, buffer.Checksum(), "float32");
        Keep(version, wire, new PooledBuffer(buffer, pool));
    }

    /// <summary>The job's tokenizer, serialised once at the first publish (null before it).</summary>
    public TokenizerWire? Tokenizer => _tokenizer;

    TokenizerWire? _tokenizer;

    public WeightsManifestWire? Manifest(long version)
    {
        lock (_lock) return _versions.TryGetValue(version, out var v) ? v.Manifest : null;
    }

    /// <summary>
    /// A lease on a kept version's whole buffer (never written while kept, so it is shared, not
    /// copied), or null; dispose it when done reading.
    /// </summary>
    public WeightLease? Borrow(long version)
    {
        lock (_lock)
            return _versions.TryGetValue(version, out var v) && v.Buffer.TryAcquire() ? new WeightLease(v.Manifest, v.Buffer) : null;
    }

    /// <summary>The pooled buffer of a kept version with a reference taken for the caller (the local cache's entry), or null.</summary>
    internal (WeightsManifestWire Manifest, PooledBuffer Buffer)? Share(long version)
    {
        lock (_lock)
            return _versions.TryGetValue(version, out var v) && v.Buffer.TryAcquire() ? v : null;
    }

    public byte[] Chunk(long version, int index)
    {
        using var lease = Borrow(version) ?? throw new InvalidOperationException($"weights version {version} is no longer kept");
        var buffer = lease.Buffer;
        long offset = (long)index * ChunkBytes;
        if (index < 0 || offset >= Math.Max(buffer.Length, 1) && buffer.Length > 0) throw new ArgumentOutOfRangeException(nameof(index), $"chunk {index} is past the end");
        var chunk = new byte[Math.Min(ChunkBytes, buffer.Length - offset)];
        buffer.Read(offset, chunk);
        return chunk;
    }
}
