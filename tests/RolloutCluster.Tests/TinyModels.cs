using RolloutCluster.Model;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;

namespace RolloutCluster.Tests;

/// <summary>Small random models for tests: fast on one CPU thread, big enough to exercise every code path.</summary>
public static class TinyModels
{
    public static readonly ByteTokenizer Tokenizer = new();

    public static ModelConfig Config(int kvHeads = 2, bool tied = true, string type = "qwen2") => new()
    {
        ModelType = type,
        Architectures = [type switch { "qwen2" => "Qwen2ForCausalLM", "qwen3" => "Qwen3ForCausalLM", _ => "LlamaForCausalLM" }],
        HiddenSize = 64,
        IntermediateSize = 160,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = kvHeads,
        VocabSize = 272,
        MaxPositionEmbeddings = 256,
        RopeTheta = 10000,
        RmsNormEps = 1e-6,
        TieWordEmbeddings = tied,
        // A wider initialisation than HF's 0.02 so random models have peaked, distinguishable distributions.
        InitializerRange = 0.2,
    };

    public static CausalLm Create(long seed = 1, int kvHeads = 2, bool tied = true, string type = "qwen2")
    {
        var model = new CausalLm(Config(kvHeads, tied, type));
        model.InitializeWeights(seed);
        return model;
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rollout-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
