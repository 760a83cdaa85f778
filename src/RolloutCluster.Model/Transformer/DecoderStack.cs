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

    /// <summary>Recompute each layer's activations in the backward pass instead of keeping them (<see cref="CheckpointedLayer"/>).</summary>
    public bool ActivationCheckpointing { get; set; }

    /// <summary>The decoder layers in order.</summary>
    public IReadOnlyList<DecoderLayer> Layers => [.. _layers];

    /// <summary>The token embedding matrix (V, C), shared with the LM head when embeddings are tied.</summary>
    public Tensor EmbeddingWeight => _embed.weight!;

    /// <summary>ids, positions: (B, T) int64 → hidden states (B, T, C) after the final norm.</summary>
    public Tensor Forward(Tensor ids, Tensor positions, Tensor? mask, KvCache? cache)
    {
        var x = _embed.forward(ids);                  // (B, T, C)
        var (cos, sin) = _rope.Tables(positions);     // (B, 1, T, D)
        // Checkpointing only where activations would be kept for a backward pass: training, no cache.
        bool checkpoint = ActivationCheckpointing && cache is null && training && is_grad_enabled();
        // A checkpointed layer joins the graph only through a tensor input that requires grad; with a
        // frozen embedding (LoRA) none does, so the embeddings stand in (Hugging Face's enable_input_require_grads).
        if (checkpoint && !x.requires_grad) x = x.detach().requires_grad_(true);
        foreach (var layer in _layers)
        {
            // Each layer's intermediates are released when the layer is done, not when the caller's scope
            // ends: a scope around a whole forward kept every layer's (B, T, I) products alive at once
            // (~3.6 MB per token at Qwen2.5-0.5B's shape). Autograd still holds natively what backward needs.
            using var scope = NewDisposeScope();
            x = checkpoint ? CheckpointedLayer.Forward(layer, x, cos, sin, mask) : layer.Forward(x, cos, sin, mask, cache);
            x.MoveToOuterDisposeScope();
        }
        cache?.Advance(ids.shape[1]);
        return _norm.forward(x);                      // (B, T, C)
    }
}
