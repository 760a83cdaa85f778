using System.Text.Json;
using RolloutCluster.Abstractions;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Weights;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Grains;

/// <summary>
/// The weights versions a learner has published and still keeps (enough for the staleness bound),
/// packed once and served in chunks of <see cref="ChunkBytes"/> — well under Orleans' 100 MiB message
/// limit. Written by the learner's training thread, read by its grain calls.
/// </summary>
public sealed class WeightStore
{
    public const int ChunkBytes = 4 << 20;
    readonly Dictionary<long, (WeightsManifestWire Manifest, byte[] Buffer)> _versions = [];
    readonly Lock _lock = new();

    public void Publish(string job, long version, long oldestNeeded, Policy policy)
    {
        var (buffer, manifest) = WeightPack.Pack(policy.Model);
        var wire = new WeightsManifestWire(job, version, JsonSerializer.Serialize(policy.Model.Config), TokenizerJson.ToJson(policy.Tokenizer),
            manifest.Tensors.Select(t => new PackedTensorWire(t.Name, t.DType, t.Shape, t.Offset, t.Length)).ToList(),
            manifest.TotalBytes, manifest.Sha256, ChunkBytes, (int)Math.Max(1, (manifest.TotalBytes + ChunkBytes - 1) / ChunkBytes),
            DTypes.ToConfigName(policy.Model.DType), policy.Tokenizer.Decode([policy.Tokenizer.EosId]));
        lock (_lock)
        {
            _versions[version] = (wire, buffer);
            foreach (var old in _versions.Keys.Where(v => v < oldestNeeded).ToList()) _versions.Remove(old);
        }
    }

    public WeightsManifestWire? Manifest(long version)
    {
        lock (_lock) return _versions.TryGetValue(version, out var v) ? v.Manifest : null;
    }

    public byte[] Chunk(long version, int index)
    {
        byte[] buffer;
        lock (_lock)
        {
            if (!_versions.TryGetValue(version, out var v)) throw new InvalidOperationException($"weights version {version} is no longer kept");
            buffer = v.Buffer;
        }
        long offset = (long)index * ChunkBytes;
        if (index < 0 || offset >= Math.Max(buffer.Length, 1) && buffer.Length > 0) throw new ArgumentOutOfRangeException(nameof(index), $"chunk {index} is past the end");
        return buffer.AsSpan((int)offset, (int)Math.Min(ChunkBytes, buffer.Length - offset)).ToArray();
    }
}
