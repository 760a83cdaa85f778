using System.Security.Cryptography;
using RolloutCluster.Model.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Weights;

/// <summary>Where one parameter lies in a packed weight buffer.</summary>
public sealed record PackedTensor(string Name, string DType, long[] Shape, long Offset, long Length);

/// <summary>Describes a packed buffer: every parameter, the total size and a SHA-256 of the bytes.</summary>
public sealed record WeightManifest(IReadOnlyList<PackedTensor> Tensors, long TotalBytes, string Sha256);

/// <summary>
/// All parameters of a model in one contiguous byte buffer and back, for broadcasting a weights
/// version: the buffer is what moves (in chunks), the manifest says how to read it and proves it whole.
/// </summary>
public static class WeightPack
{
    /// <summary>Copies every parameter, in named_parameters order, into one buffer.</summary>
    public static (byte[] Buffer, WeightManifest Manifest) Pack(nn.Module model)
    {
        using var scope = NewDisposeScope();
        var parameters = model.named_parameters().Select(p => (p.name, t: p.parameter.detach().cpu().contiguous())).ToList();
        long total = parameters.Sum(p => p.t.NumberOfElements * p.t.ElementSize);
        if (total > Array.MaxLength) throw new NotSupportedException($"model of {total} bytes exceeds one buffer; shard it");
        var buffer = new byte[total];
        var entries = new List<PackedTensor>(parameters.Count);
        long offset = 0;
        foreach (var (name, t) in parameters)
        {
            var bytes = t.bytes;
            bytes.CopyTo(buffer.AsSpan((int)offset, bytes.Length));
            entries.Add(new PackedTensor(name, DTypes.ToSafeTensors(t.dtype), t.shape, offset, bytes.Length));
            offset += bytes.Length;
        }
        return (buffer, new WeightManifest(entries, total, Convert.ToHexString(SHA256.HashData(buffer))));
    }

    /// <summary>
    /// Verifies the checksum and that the manifest matches the model's parameters exactly, then
    /// copies the bytes in. Throws <see cref="InvalidDataException"/> without touching the model on any mismatch.
    /// </summary>
    public static void Unpack(nn.Module model, byte[] buffer, WeightManifest manifest)
    {
        if (buffer.Length != manifest.TotalBytes)
            throw new InvalidDataException($"weight buffer has {buffer.Length} bytes, manifest says {manifest.TotalBytes}");
        var sha = Convert.ToHexString(SHA256.HashData(buffer));
        if (!string.Equals(sha, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"weight buffer checksum {sha} does not match manifest {manifest.Sha256}");
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
            using var scope = NewDisposeScope();
            var staging = empty(e.Shape, DTypes.FromSafeTensors(e.DType)!.Value);
            staging.bytes = buffer.AsSpan((int)e.Offset, (int)e.Length);
            p.copy_(staging);
        }
    }
}
