using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>One pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
public sealed class DecoderLayer : nn.Module
{
    readonly RmsNorm _inputNorm;
    readonly Attention _attention;
    readonly RmsNorm _postAttentionNorm;
    readonly SwiGluMlp _mlp;

    public DecoderLayer(ModelConfig config, int index) : base(nameof(DecoderLayer))
    {
        _inputNorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        _attention = new Attention(config, index);
        _postAttentionNorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        _mlp = new SwiGluMlp(config.HiddenSize, config.IntermediateSize);
        register_module("input_layernorm", _inputNorm);
        register_module("self_attn", _attention);
        register_module("post_attention_layernorm", _postAttentionNorm);
        register_module("mlp", _mlp);
    }

    /// <summary>Attaches LoRA adapters to this layer's targeted projections.</summary>
    public void AttachLora(Lora.LoraConfig config, Generator generator)
    {
        _attention.AttachLora(config, generator);
        _mlp.AttachLora(config, generator);
    }

    /// <summary>This layer's adapters with the base weight each adds to.</summary>
    public IEnumerable<(Lora.LoraProjection Lora, string Weight)> Adapters() => _attention.Adapters().Concat(_mlp.Adapters());

    /// <summary>x: (B, T, C) → (B, T, C); see <see cref="Attention.Forward"/> for the other arguments.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache)
    {
        var h = x + _attention.Forward(_inputNorm.forward(x), cos, sin, mask, cache); // (B, T, C)
        return h + _mlp.forward(_postAttentionNorm.forward(h));                       // (B, T, C)
    }
}
