using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// Rotary position embeddings (RoFormer, arXiv 2104.09864) in Hugging Face's "rotate half" layout:
/// the first and second halves of each head are the two coordinates of each rotated pair.
/// Cos and sin tables are precomputed for every position and gathered by per-row position ids,
/// which is what lets left-padded rows start at position 0.
/// </summary>
public sealed class RotaryEmbedding : nn.Module
{
    readonly Tensor _cos;
    readonly Tensor _sin;

    public RotaryEmbedding(int headDim, int maxPositions, double theta) : base(nameof(RotaryEmbedding))
    {
        using var scope = NewDisposeScope();
        var exponents = arange(0, headDim, 2, dtype: int64).to(float32) / headDim;       // (D/2)
        var invFreq = 1.0f / pow(tensor((float)theta), exponents);                       // (D/2)
        var positions = arange(maxPositions, dtype: int64).to(float32);                 // (P)
        var freqs = outer(positions, invFreq);                                           // (P, D/2)
        var emb = cat([freqs, freqs], dim: -1);                                          // (P, D)
        _cos = emb.cos().MoveToOuterDisposeScope();
        _sin = emb.sin().MoveToOuterDisposeScope();
        register_buffer("cos_cached", _cos, persistent: false);
        register_buffer("sin_cached", _sin, persistent: false);
    }

    /// <summary>positions: (B, T) int64 → cos, sin: (B, 1, T, D), ready to broadcast over heads.</summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positions)
    {
        var flat = positions.reshape(-1);
        long b = positions.shape[0], t = positions.shape[1];
        var cos = _cos.index_select(0, flat).view(b, 1, t, -1); // (B, 1, T, D)
        var sin = _sin.index_select(0, flat).view(b, 1, t, -1); // (B, 1, T, D)
        return (cos, sin);
    }

    /// <summary>x: (B, H, T, D) rotated by the given tables.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([-x2, x1], dim: -1); // (B, H, T, D)
        return x * cos.to(x.dtype) + rotated * sin.to(x.dtype);
    }
}
