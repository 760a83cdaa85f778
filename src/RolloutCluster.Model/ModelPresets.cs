namespace RolloutCluster.Model;

/// <summary>Architectures of the built-in models, by name (all Qwen2 layout, byte-level vocabulary).</summary>
public static class ModelPresets
{
    /// <summary>Names accepted by <see cref="Get"/>.</summary>
    public static IReadOnlyList<string> Names => ["tiny", "small", "bench-10m", "bench-100m"];

    /// <summary>The configuration for a preset; vocabSize is the tokenizer's size.</summary>
    public static ModelConfig Get(string name, int vocabSize) => name switch
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
