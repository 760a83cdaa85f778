using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Weights;

/// <summary>
/// A contiguous CPU tensor's bytes in pieces: TorchSharp exposes them as one Span, which stops at
/// 2 GiB (a 7B model's fp32 embedding is 2.18 GB), so larger tensors are read and written through
/// flat views of at most <see cref="PieceBytes"/> each.
/// </summary>
public static class TensorBytes
{
    public const long PieceBytes = 256L << 20;

    /// <summary>Calls visit(byte offset in the tensor, piece) for consecutive views covering the tensor; pieces are disposed after the call.</summary>
    public static void ForEachPiece(Tensor tensor, Action<long, Tensor> visit, long pieceBytes = PieceBytes)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("expected a contiguous CPU tensor", nameof(tensor));
        long elements = tensor.NumberOfElements, size = tensor.ElementSize, perPiece = Math.Max(1, pieceBytes / size);
        if (elements == 0) return;
        using var flat = tensor.view(-1);
        for (long start = 0; start < elements; start += perPiece)
        {
            using var piece = flat.narrow(0, start, Math.Min(perPiece, elements - start));
            visit(start * size, piece);
        }
    }
}
