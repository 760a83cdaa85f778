using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// A decoder-only language model with the Qwen2/Llama architecture (Qwen2ForCausalLM): parameter
/// names match Hugging Face's, so <see cref="Checkpoints.Checkpoint"/> reads and writes their files.
/// </summary>
public sealed partial class CausalLm : nn.Module
{
    readonly DecoderStack _model;
    readonly Linear? _lmHead;

    /// <summary>
    /// A model whose parameters are created in dtype: a 7B model in bf16 never holds an fp32 copy
    /// (torch's default dtype is set while the modules are built).
    /// </summary>
    public static CausalLm Create(ModelConfig config, ScalarType dtype) => new(config, dtype);

    /// <summary>A float32 model.</summary>
    public CausalLm(ModelConfig config) : this(config, ScalarType.Float32) { }

    // torch's default dtype is process-wide: two models built at once on two threads (a bf16 replica
    // and an fp32 learner) would each see the other's. Building holds this lock; nothing else relies on
    // the default (tensors made outside a model's construction name their dtype).
    static readonly Lock DefaultDTypeLock = new();

    CausalLm(ModelConfig config, ScalarType dtype) : base(nameof(CausalLm))
    {
        var problem = config.Validate();
        if (problem is not null) throw new ArgumentException(problem, nameof(config));
        Config = config;
        lock (DefaultDTypeLock)
        {
            var previous = get_default_dtype();
            set_default_dtype(dtype);
            try
            {
                _model = new DecoderStack(config);
                if (!config.TieWordEmbeddings) _lmHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            }
            finally { set_default_dtype(previous); }
        }
        register_module("model", _model);
        if (_lmHead is not null) register_module("lm_head", _lmHead);
    }

    public ModelConfig Config { get; }

    /// <summary>The generation_config.json the model was loaded with (eos id lists, sampling defaults), written back on save; null for new models.</summary>
    public System.Text.Json.Nodes.JsonObject? GenerationConfig { get; set; }

    /// <summary>
    /// Recompute each decoder layer's activations in the backward pass instead of keeping them
    /// (<see cref="CheckpointedLayer"/>): less memory for one more forward pass per training step.
    /// </summary>
    public bool ActivationCheckpointing
    {
        get => _model.ActivationCheckpointing;
        set
        {
            if (value && Lora is { Dropout: > 0 }) throw new InvalidOperationException("activation checkpointing recomputes each layer, which LoRA dropout would make differ; set lora dropout to 0");
            _model.ActivationCheckpointing = value;
        }
    }

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
        var h = Hidden(ids, positions, mask, cache);                // (B, T, C)
        if (lastOnly) h = h.narrow(1, h.shape[1] - 1, 1);           // (B, 1, C)
        return LmHead(h, OutputWeight).to(float32);                 // (B, T, V)
    }

    /// <summary>The final hidden states (B, T, C), before the LM head: what the learner's chunked scoring starts from.</summary>
    public Tensor Hidden(Tensor ids, Tensor positions, Tensor? mask = null, KvCache? cache = null) => _model.Forward(ids, positions, mask, cache);

    /// <summary>The LM head's weight (V, C): lm_head's own, or the token embedding when tied.</summary>
    public Tensor OutputWeight => _lmHead?.weight ?? _model.EmbeddingWeight;

    /// <summary>
    /// h: (B, T, C) → logits (B, T, V). For the few rows of a decode step and a large vocabulary the
    /// product runs in four vocabulary slices: on one CPU thread libtorch's sgemm was 5-10% faster
    /// that way (benchmarks/README.md, sampler), since each slice's output stays in cache.
    /// </summary>
    static Tensor LmHead(Tensor h, Tensor weight)
    {
        long rows = h.shape[0] * h.shape[1], vocab = weight.shape[0];
        if (rows > 256 || vocab < 8192 || h.device.type != DeviceType.CPU) return nn.functional.linear(h, weight);
        var slices = weight.chunk(4, 0);
        return cat(slices.Select(w => nn.functional.linear(h, w)).ToArray(), -1); // (B, T, V)
    }

    /// <summary>
    /// Every tensor as Hugging Face names and shapes it, as views into this model's parameters:
    /// fused parameters (qkv_proj, gate_up_proj) appear as their parts (q_proj, k_proj, v_proj;
    /// gate_proj, up_proj). Checkpoints read and write through these views.
    /// </summary>
    public IEnumerable<(string Name, Tensor Tensor)> HfTensors() =>
        HfTensors(named_parameters().Where(p => !IsLora(p.name)).Select(p => (p.name, (Tensor)p.parameter)));

    /// <summary>The base model's tensors (ours, by our names) split into Hugging Face's names and shapes.</summary>
    IEnumerable<(string Name, Tensor Tensor)> HfTensors(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        long q = (long)Config.NumAttentionHeads * Config.HeadDim, kv = (long)Config.KeyValueHeads * Config.HeadDim, i = Config.IntermediateSize;
        (string Fused, (string Part, long Rows)[] Parts)[] fusions =
        [
            ($"self_attn.{Attention.FusedName}.", [("q_proj.", q), ("k_proj.", kv), ("v_proj.", kv)]),
            ($"mlp.{SwiGluMlp.FusedName}.", [("gate_proj.", i), ("up_proj.", i)]),
        ];
        foreach (var (name, p) in tensors)
        {
            var match = fusions.FirstOrDefault(f => name.Contains(f.Fused, StringComparison.Ordinal));
            if (match.Fused is null)
            {
                yield return (name, p);
                continue;
            }
            int at = name.IndexOf(match.Fused, StringComparison.Ordinal);
            string owner = name[..(at + match.Fused.IndexOf('.') + 1)], leaf = name[(at + match.Fused.Length)..];
            long offset = 0;
            foreach (var (part, rows) in match.Parts)
            {
                yield return (owner + part + leaf, p.narrow(0, offset, rows));
                offset += rows;
            }
        }
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
