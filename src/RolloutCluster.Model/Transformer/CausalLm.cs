using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// A decoder-only language model with the Qwen2/Llama architecture (Qwen2ForCausalLM): parameter
/// names match Hugging Face's, so <see cref="Checkpoints.Checkpoint"/> reads and writes their files.
/// </summary>
public sealed class CausalLm : nn.Module
{
    readonly DecoderStack _model;
    readonly Linear? _lmHead;

    public CausalLm(ModelConfig config) : base(nameof(CausalLm))
    {
        var problem = config.Validate();
        if (problem is not null) throw new ArgumentException(problem, nameof(config));
        Config = config;
        _model = new DecoderStack(config);
        register_module("model", _model);
        if (!config.TieWordEmbeddings)
        {
            _lmHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            register_module("lm_head", _lmHead);
        }
    }

    public ModelConfig Config { get; }

    /// <summary>The device the parameters live on.</summary>
    public Device Device => _model.EmbeddingWeight.device;

    /// <summary>The parameters' dtype.</summary>
    public ScalarType DType => _model.EmbeddingWeight.dtype;

    /// <summary>
    /// ids, positions: (B, T) int64; mask: (B, 1, T, Tk) bool or null for an unpadded causal pass.
    /// Returns float32 logits (B, T, V), or (B, 1, V) for the last position only when lastOnly.
    /// </summary>
    public Tensor Forward(Tensor ids, Tensor positions, Tensor? mask = null, KvCache? cache = null, bool lastOnly = false)
    {
        var h = _model.Forward(ids, positions, mask, cache);        // (B, T, C)
        if (lastOnly) h = h.narrow(1, h.shape[1] - 1, 1);           // (B, 1, C)
        var logits = _lmHead is null
            ? nn.functional.linear(h, _model.EmbeddingWeight)       // (B, T, V)
            : _lmHead.forward(h);                                   // (B, T, V)
        return logits.to(float32);
    }

    /// <summary>
    /// Hugging Face's initialisation: weights and embeddings ~ N(0, initializer_range), biases 0, norms 1.
    /// Seeded, so the same seed gives the same model on any machine.
    /// </summary>
    public void InitializeWeights(long seed)
    {
        using var noGrad = no_grad();
        var generator = new Generator((ulong)seed);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1.0);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
            else p.normal_(0.0, Config.InitializerRange, generator);
        }
    }
}
