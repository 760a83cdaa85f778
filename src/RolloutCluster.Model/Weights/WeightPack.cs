using RolloutCluster.Model.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Weights;

/// <summary>Where one parameter lies in a packed weight buffer.</summary>
public sealed record PackedTensor(string Name, string DType, long[] Shape, long Offset, long Length);

/// <summary>Describes a packed buffer: every parameter, the total size and a checksum of the bytes (<see cref="WeightBuffer.Checksum"/>).</summary>
public sealed record WeightManifest(IReadOnlyList<PackedTensor> Tensors, long TotalBytes, string Checksum);

/// <summary>
/// All parameters of a model in one logical byte buffer (<see cref="WeightBuffer"/>: segmented, 64-bit
/// offsets) and back, for broadcasting a weights version: the buffer is what moves, the manifest says
/// how to read it and proves it whole.
/// </summary>
public static class WeightPack
{
    /// <summary>Copies every parameter (those include accepts by name, when given), in named_parameters order, into one buffer.</summary>
    public static (WeightBuffer Buffer, WeightManifest Manifest) Pack(nn.Module model, Func<string, bool>? include = null, ScalarType? dtype = null) =>
        Pack(model, length => new WeightBuffer(length), include, dtype);

    /// <summary>
    /// As <see cref="Pack(nn.Module, Func{string, bool}, ScalarType?)"/>, into a buffer from allocate(total bytes) — a reused
    /// one, say — which must have exactly that length. dtype converts floating-point tensors on the way
    /// (generators sampling in bf16 from an fp32 learner receive half the bytes).
    /// </summary>
    public static (WeightBuffer Buffer, WeightManifest Manifest) Pack(nn.Module model, Func<long, WeightBuffer> allocate, Func<string, bool>? include = null, ScalarType? dtype = null)
    {
        var parameters = model.named_parameters().Where(p => include?.Invoke(p.name) ?? true).ToList();
        ScalarType Target(Tensor p) => dtype is { } d && p.is_floating_point() ? d : p.dtype;
        long total = parameters.Sum(p => p.parameter.NumberOfElements * DTypes.ElementSize(Target(p.parameter)));
        var buffer = allocate(total);
        if (buffer.Length != total) throw new ArgumentException($"allocate({total}) returned {buffer.Length} bytes", nameof(allocate));
        var entries = new List<PackedTensor>(parameters.Count);
        long offset = 0;
        foreach (var (name, p) in parameters)
        {
            using var scope = NewDisposeScope();
            var t = p.detach().to(Target(p)).cpu().contiguous();   // the parameter itself when it is a contiguous CPU tensor of that dtype: no copy
            long start = offset;
            TensorBytes.ForEachPiece(t, (at, piece) => buffer.Write(start + at, piece.bytes));
            long length = t.NumberOfElements * t.ElementSize;
            entries.Add(new PackedTensor(name, DTypes.ToSafeTensors(t.dtype), t.shape, offset, length));
            offset += length;
        }
        return (buffer, new WeightManifest(entries, total, buffer.Checksum()));
    }

    /// <summary>
    /// Verifies the checksum and that the manifest matches the model's parameters (those include
    /// accepts, when given) exactly, then copies the bytes in. Throws <see cref="InvalidDataException"/>
    /// without touching the model on any mismatch.
    /// </summary>
    /// <param name="verified">The caller has already checked this buffer against the manifest's checksum (a silo's weight cache does on receipt).</param>
    public static void Unpack(nn.Module model, WeightBuffer buffer, WeightManifest manifest, bool verified = false, Func<string, bool>? include = null)
    {
        if (buffer.Length != manifest.TotalBytes)
            throw new InvalidDataException($"weight buffer has {buffer.Length} bytes, manifest says {manifest.TotalBytes}");
        var checksum = verified ? manifest.Checksum : buffer.Checksum();
        if (!string.Equals(checksum, manifest.Checksum, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"weight buffer checksum {checksum} does not match manifest {manifest.Checksum}");
        var parameters = model.named_parameters().Where(p => include?.Invoke(p.name) ?? true).ToDictionary(p => p.name, p => p.parameter);
        if (parameters.Count != manifest.Tensors.Count)
            throw new InvalidDataException($"manifest has {manifest.Tensors.Count} tensors, model has {parameters.Count}");
        foreach (var e in manifest.Tensors)
        {
            if (!parameters.TryGetValue(e.Name, out var p))
                throw new InvalidDataException($"manifest tensor '{e.Name}' is not a parameter of the model");
            if (!p.shape.SequenceEqual(e.Shape) || DTypes.ToSafeTensors(p.dtype) != e.DType)
                throw new InvalidDataException($"tensor '{e.Name}': manifest [{string.Join(", ", e.Shape)}] {e.DType}, model [{string.Join(", ", p.shape)}] {DTypes.ToSafeTensors(p.dtype)}");
            if (e.Offset < 0 || e.Offset + e.Length > buffer.Length || e.Length != p.NumberOfElements * p.ElementSize)
                throw new InvalidDataException($"tensor '{e.Name}' lies outside the buffer or has the wrong length");
        }
        using var noGrad = no_grad();
        foreach (var e in manifest.Tensors)
        {
            using var scope = NewDisposeScope();
            var p = parameters[e.Name];
            // A contiguous CPU parameter takes the bytes straight into its storage; others (CUDA) through a staging tensor.
            bool direct = p.device_type == DeviceType.CPU && p.is_contiguous();
            var target = direct ? p.detach() : empty(e.Shape, DTypes.FromSafeTensors(e.DType)!.Value);
            TensorBytes.ForEachPiece(target, (at, piece) => buffer.Read(e.Offset + at, piece.bytes));
            if (!direct) p.copy_(target);
        }
    }
}
