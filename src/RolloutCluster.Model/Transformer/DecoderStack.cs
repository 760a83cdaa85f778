using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// The body Hugging Face calls "model": token embedding, the decoder layers and the final norm.
/// </summary>
public sealed class DecoderStack : nn.Module
{
    readonly Embedding _embed;
    readonly ModuleList<DecoderLayer> _layers;
    readonly RmsNorm _norm;
    readonly RotaryEmbedding _rope;

    public DecoderStack(ModelConfig config) : base(nameof(DecoderStack))
    {
        _embed = nn.Embedding(config.VocabSize, config.HiddenSize);
        _layers = new ModuleList<DecoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) _layers.Add(new DecoderLayer(config, i));
        _norm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        _rope = new RotaryEmbedding(config);
        register_module("embed_tokens", _embed);
        register_module("layers", _layers);
        register_module("norm", _norm);
        register_module("rotary_emb", _rope);
    }

    /// <summary>The decoder layers in order.</summary>
    public IReadOnlyList<DecoderLayer> Layers => [.. _layers];

    /// <summary>The token embedding matrix (V, C), shared with the LM head when embeddings are tied.</summary>
    public Tensor EmbeddingWeight => _embed.weight!;

    /// <summary>ids, positions: (B, T) int64 → hidden states (B, T, C) after the final norm.</summary>
    public Tensor Forward(Tensor ids, Tensor positions, Tensor? mask, KvCache? cache)
    {
        var x = _embed.forward(ids);                  // (B, T, C)
        var (cos, sin) = _rope.Tables(positions);     // (B, 1, T, D)
        foreach (var layer in _layers) x = layer.Forward(x, cos, sin, mask, cache);
        cache?.Advance(ids.shape[1]);
        return _norm.forward(x);                      // (B, T, C)
    }
}
