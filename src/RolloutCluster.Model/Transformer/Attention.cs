using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// Multi-head self-attention with grouped-query heads (Ainslie et al. 2023, arXiv 2305.13245):
/// H query heads share Hkv key/value heads, rep = H / Hkv query heads per group.
/// </summary>
public sealed class Attention : nn.Module
{
    readonly Linear _q;
    readonly Linear _k;
    readonly Linear _v;
    readonly Linear _o;
    readonly int _layer;
    readonly int _heads;
    readonly int _kvHeads;
    readonly int _headDim;

    public Attention(ModelConfig config, int layer) : base(nameof(Attention))
    {
        _layer = layer;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.KeyValueHeads;
        _headDim = config.HeadDim;
        _q = nn.Linear(config.HiddenSize, _heads * _headDim, hasBias: config.QkvBias);
        _k = nn.Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias);
        _v = nn.Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias);
        _o = nn.Linear(_heads * _headDim, config.HiddenSize, hasBias: config.OutputBias);
        register_module("q_proj", _q);
        register_module("k_proj", _k);
        register_module("v_proj", _v);
        register_module("o_proj", _o);
    }

    /// <summary>
    /// x: (B, T, C); cos, sin: (B, 1, T, D); mask: (B, 1, T, Tk) bool (true = may attend) or null for a
    /// plain causal pass from slot 0; cache: written at its current length when given.
    /// Returns (B, T, C).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache)
    {
        long b = x.shape[0], t = x.shape[1];
        int rep = _heads / _kvHeads;
        var q = _q.forward(x).view(b, t, _heads, _headDim).transpose(1, 2);   // (B, H, T, D)
        var k = _k.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2); // (B, Hkv, T, D)
        var v = _v.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2); // (B, Hkv, T, D)
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(_layer, k, v);          // (B, Hkv, Tk, D)

        Tensor y;
        if (t == 1 && rep > 1)
        {
            // Decoding: fold each group's query heads into the query axis so the cached keys and
            // values are read in place instead of being repeated rep times every step.
            var qg = q.reshape(b, _kvHeads, rep, _headDim);                   // (B, Hkv, rep, D)
            var m = mask?.expand(b, 1, rep, mask.shape[^1]);                   // (B, 1, rep, Tk)
            y = nn.functional.scaled_dot_product_attention(qg, k, v, m, 0.0, false); // (B, Hkv, rep, D)
            y = y.reshape(b, _heads, 1, _headDim);                              // (B, H, 1, D)
        }
        else
        {
            if (rep > 1)
            {
                long tk = k.shape[2];
                k = k.unsqueeze(2).expand(b, _kvHeads, rep, tk, _headDim).reshape(b, _heads, tk, _headDim); // (B, H, Tk, D)
                v = v.unsqueeze(2).expand(b, _kvHeads, rep, tk, _headDim).reshape(b, _heads, tk, _headDim); // (B, H, Tk, D)
            }
            y = nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, mask is null && t > 1); // (B, H, T, D)
        }
        y = y.transpose(1, 2).reshape(b, t, _heads * _headDim);               // (B, T, H*D)
        return _o.forward(y);                                                  // (B, T, C)
    }
}
