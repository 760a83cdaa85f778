namespace RolloutCluster.Model;

/// <summary>
/// Architectures by name: small Qwen2-layout models with the byte-level vocabulary for CPU jobs, and
/// the published shapes of real families (Qwen2.5, Qwen3, Llama 3.1/3.2), randomly initialised, for
/// proving sizes, memory and speed where no weights can be downloaded.
/// </summary>
public static class ModelPresets
{
    /// <summary>Names accepted by <see cref="Get"/>.</summary>
    public static IReadOnlyList<string> Names => ["tiny", "small", "bench-10m", "bench-100m", .. Published.Keys];

    static System.Text.Json.JsonElement Llama3Scaling(double factor) => System.Text.Json.JsonDocument.Parse(
        $"{{\"rope_type\": \"llama3\", \"factor\": {factor}, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}}").RootElement;

    /// <summary>The published config.json shapes (Hugging Face model cards), vocabulary included.</summary>
    static readonly Dictionary<string, Func<ModelConfig>> Published = new()
    {
        ["qwen2.5-0.5b"] = () => Family("qwen2", 151936, 896, 4864, 24, 14, 2, null, tied: true, 32768, 1_000_000),
        ["qwen2.5-1.5b"] = () => Family("qwen2", 151936, 1536, 8960, 28, 12, 2, null, tied: true, 32768, 1_000_000),
        ["qwen2.5-7b"] = () => Family("qwen2", 152064, 3584, 18944, 28, 28, 4, null, tied: false, 32768, 1_000_000),
        ["qwen3-0.6b"] = () => Family("qwen3", 151936, 1024, 3072, 28, 16, 8, 128, tied: true, 40960, 1_000_000),
        ["qwen3-8b"] = () => Family("qwen3", 151936, 4096, 12288, 36, 32, 8, 128, tied: false, 40960, 1_000_000),
        ["llama3.2-1b"] = () => Family("llama", 128256, 2048, 8192, 16, 32, 8, 64, tied: true, 131072, 500_000) with { RopeScaling = Llama3Scaling(32), RmsNormEps = 1e-5 },
        ["llama3.1-8b"] = () => Family("llama", 128256, 4096, 14336, 32, 32, 8, 128, tied: false, 131072, 500_000) with { RopeScaling = Llama3Scaling(8), RmsNormEps = 1e-5 },
    };

    static ModelConfig Family(string type, int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int? headDim, bool tied, int maxPositions, double theta) => new()
    {
        ModelType = type,
        Architectures = [type switch { "qwen2" => "Qwen2ForCausalLM", "qwen3" => "Qwen3ForCausalLM", _ => "LlamaForCausalLM" }],
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = kvHeads,
        HeadDimOverride = headDim,
        VocabSize = vocab,
        MaxPositionEmbeddings = maxPositions,
        RopeTheta = theta,
        RmsNormEps = 1e-6,
        TieWordEmbeddings = tied,
        TorchDtype = "bfloat16",
    };

    /// <summary>The configuration for a preset; vocabSize is the tokenizer's size.</summary>
    public static ModelConfig Get(string name, int vocabSize) => Published.TryGetValue(name, out var published) ? published() : name switch
    {
        // ~0.8M parameters: the size the CPU prototype of the arithmetic loop used (PLATFORM.md).
        "tiny" => Make(vocabSize, hidden: 128, intermediate: 352, layers: 4, heads: 4, kvHeads: 2, maxPositions: 512),
        // ~3.0M parameters: more headroom when a job can afford it.
        "small" => Make(vocabSize, hidden: 256, intermediate: 688, layers: 4, heads: 8, kvHeads: 4, maxPositions: 1024),
        // ~10M parameters with a 12,288-token vocabulary: the sampler benchmark's model (issue 2).
        "bench-10m" => Make(12288, hidden: 320, intermediate: 864, layers: 6, heads: 8, kvHeads: 4, maxPositions: 1024),
        // ~25.7M parameters, ~103 MB in fp32 with the byte vocabulary: the weight-broadcast benchmark's payload (issue 6).
        "bench-100m" => Make(vocabSize, hidden: 1024, intermediate: 2816, layers: 2, heads: 16, kvHeads: 16, maxPositions: 512),
        _ => throw new ArgumentException($"unknown model preset '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };

    static ModelConfig Make(int vocabSize, int hidden, int intermediate, int layers, int heads, int kvHeads, int maxPositions) => new()
    {
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = kvHeads,
        VocabSize = vocabSize,
        MaxPositionEmbeddings = maxPositions,
        RopeTheta = 10000,
        RmsNormEps = 1e-6,
        TieWordEmbeddings = true,
    };
}
