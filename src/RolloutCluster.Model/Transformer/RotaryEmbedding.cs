using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// Rotary position embeddings (RoFormer, arXiv 2104.09864) in Hugging Face's "rotate half" layout:
/// the first and second halves of each head are the two coordinates of each rotated pair.
/// Frequencies follow config.json's rope_scaling (<see cref="RopeScaling"/>). Cos and sin tables are
/// kept for the positions used so far (grown on demand: a 128k-position model does not hold 128k
/// rows it never reads) and gathered by per-row position ids, which is what lets left-padded rows
/// start at position 0. A position's row does not depend on the table's size.
/// </summary>
public sealed class RotaryEmbedding : nn.Module
{
    const int InitialPositions = 4096;

    readonly Tensor _invFreq;
    readonly double _attentionFactor;
    readonly int _maxPositions;
    Tensor _cos;
    Tensor _sin;

    public RotaryEmbedding(ModelConfig config) : base(nameof(RotaryEmbedding))
    {
        _maxPositions = config.MaxPositionEmbeddings;
        int headDim = config.HeadDim;
        using (var scope = NewDisposeScope())
        {
            if (RopeScaling.TypeOf(config.RopeScaling) == "default")
            {
                // float32 throughout, as Hugging Face computes the unscaled frequencies.
                var exponents = arange(0, headDim, 2, dtype: int64).to(float32) / headDim;  // (D/2)
                _invFreq = (1.0f / pow(tensor((float)config.RopeTheta), exponents)).MoveToOuterDisposeScope();
                _attentionFactor = 1.0;
            }
            else
            {
                var (inverse, attention) = RopeScaling.Compute(config);
                _invFreq = tensor(inverse).MoveToOuterDisposeScope();                       // (D/2)
                _attentionFactor = attention;
            }
        }
        (_cos, _sin) = Build(Math.Min(_maxPositions, InitialPositions));
    }

    (Tensor Cos, Tensor Sin) Build(int positions)
    {
        using var scope = NewDisposeScope();
        var p = arange(positions, dtype: int64).to(float32);                            // (P)
        var freqs = outer(p, _invFreq);                                                 // (P, D/2)
        var emb = cat([freqs, freqs], dim: -1);                                         // (P, D)
        var cos = emb.cos();
        var sin = emb.sin();
        if (_attentionFactor != 1.0) { cos = cos * _attentionFactor; sin = sin * _attentionFactor; }
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>positions: (B, T) int64 → cos, sin: (B, 1, T, D), ready to broadcast over heads.</summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positions)
    {
        var flat = positions.reshape(-1);
        long needed = flat.numel() == 0 ? 0 : flat.max().item<long>() + 1;
        if (needed > _cos.shape[0]) Grow(needed);
        if (_cos.device_type != positions.device_type || _cos.device_index != positions.device_index)
        {
            // Tables follow the model to its device on first use (they are not parameters or saved buffers).
            var (movedCos, movedSin) = (_cos.to(positions.device), _sin.to(positions.device));
            _cos.Dispose();
            _sin.Dispose();
            (_cos, _sin) = (movedCos, movedSin);
        }
        long b = positions.shape[0], t = positions.shape[1];
        var cos = _cos.index_select(0, flat).view(b, 1, t, -1); // (B, 1, T, D)
        var sin = _sin.index_select(0, flat).view(b, 1, t, -1); // (B, 1, T, D)
        return (cos, sin);
    }

    void Grow(long needed)
    {
        if (needed > _maxPositions) throw new ArgumentException($"position {needed - 1} is beyond max_position_embeddings ({_maxPositions})");
        int size = (int)Math.Min(_maxPositions, Math.Max(needed, 2 * _cos.shape[0]));
        var (cos, sin) = Build(size);
        _cos.Dispose();
        _sin.Dispose();
        (_cos, _sin) = (cos, sin);
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
