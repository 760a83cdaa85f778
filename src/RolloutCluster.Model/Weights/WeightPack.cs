using RolloutCluster.Model.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Weights;

/// <summary>Where one parameter lies in a packed weight buffer.</summary>
public sealed record PackedTensor(string Name, string DType, long[] Shape, long Offset, long Length);

/// <summary>Describes a packed buffer: every parameter, the total size and a checksum of the bytes (<see cref="WeightBuffer.Checksum"/>).</summary>
public sealed record WeightManifest(IReadOnlyList<PackedTensor> Tensors, long TotalBytes, string Checksum);

/// <summary>
/// All parameters of a model in one contiguous byte buffer and back, for broadcasting a weights
/// version: the buffer is what moves (in chunks), the manifest says how to read it and proves it whole.
/// </summary>
public static class WeightPack
{
    /// <summary>Copies every parameter, in named_parameters order, into one buffer.</summary>
    public static (byte[] Buffer, WeightManifest Manifest) Pack(nn.Module model) => Pack(model, WeightBuffer.Allocate);

    /// <summary>As <see cref="Pack(nn.Module)"/>, into a buffer from allocate(total bytes) — a reused one, say — which must have exactly that length.</summary>
    public static (byte[] Buffer, WeightManifest Manifest) Pack(nn.Module model, Func<long, byte[]> allocate)
    {
        using var scope = NewDisposeScope();
        var parameters = model.named_parameters().Select(p => (p.name, t: p.parameter.detach().cpu().contiguous())).ToList();
        long total = parameters.Sum(p => p.t.NumberOfElements * p.t.ElementSize);
        if (total > Array.MaxLength) throw new NotSupportedException($"model of {total} bytes exceeds one buffer; shard it");
        var buffer = allocate(total);
        if (buffer.LongLength != total) throw new ArgumentException($"allocate({total}) returned {buffer.LongLength} bytes", nameof(allocate));
        var entries = new List<PackedTensor>(parameters.Count);
        long offset = 0;
        foreach (var (name, t) in parameters)
        {
            var bytes = t.bytes;   // a span over the contiguous CPU tensor's storage: one copy into the buffer
            bytes.CopyTo(buffer.AsSpan((int)offset, bytes.Length));
            entries.Add(new PackedTensor(name, DTypes.ToSafeTensors(t.dtype), t.shape, offset, bytes.Length));
            offset += bytes.Length;
        }
        return (buffer, new WeightManifest(entries, total, WeightBuffer.Checksum(buffer)));
    }

    /// <summary>
    /// Verifies the checksum and that the manifest matches the model's parameters exactly, then
    /// copies the bytes in. Throws <see cref="InvalidDataException"/> without touching the model on any mismatch.
    /// </summary>
    /// <param name="verified">The caller has already checked this buffer against the manifest's checksum (a silo's weight cache does on receipt).</param>
    public static void Unpack(nn.Module model, byte[] buffer, WeightManifest manifest, bool verified = false)
    {
        if (buffer.Length != manifest.TotalBytes)
            throw new InvalidDataException($"weight buffer has {buffer.Length} bytes, manifest says {manifest.TotalBytes}");
        var checksum = verified ? manifest.Checksum : WeightBuffer.Checksum(buffer);
        if (!string.Equals(checksum, manifest.Checksum, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"weight buffer checksum {checksum} does not match manifest {manifest.Checksum}");
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        if (parameters.Count != manifest.Tensors.Count)
            throw new InvalidDataException($"manifest has {manifest.Tensors.Count} tensors, model has {parameters.Count}");
        foreach (var e in manifest.Tensors)
        {
            if (!parameters.TryGetValue(e.Name, out var p))
                throw new InvalidDataException($"manifest tensor '{e.Name}' is not a parameter of the model");
            if (!p.shape.SequenceEqual(e.Shape) || DTypes.ToSafeTensors(p.dtype) != e.DType)
                throw new InvalidDataException($"tensor '{e.Name}': manifest [{string.Join(", ", e.Shape)}] {e.DType}, model [{string.Join(", ", p.shape)}] {DTypes.ToSafeTensors(p.dtype)}");
            if (e.Offset < 0 || e.Offset + e.Length > buffer.Length)
                throw new InvalidDataException($"tensor '{e.Name}' lies outside the buffer");
        }
        using var noGrad = no_grad();
        foreach (var e in manifest.Tensors)
        {
            var p = parameters[e.Name];
            var bytes = buffer.AsSpan((int)e.Offset, (int)e.Length);
            // A contiguous CPU parameter takes the bytes straight into its storage; others (CUDA) through a staging tensor.
            if (p.device_type == DeviceType.CPU && p.is_contiguous())
            {
                p.bytes = bytes;
                continue;
            }
            using var scope = NewDisposeScope();
            var staging = empty(e.Shape, DTypes.FromSafeTensors(e.DType)!.Value);
            staging.bytes = bytes;
            p.copy_(staging);
        }
    }
}
