using System.Text.Json.Nodes;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;

namespace RolloutCluster.Tests.Oracle;

/// <summary>A checkpoint saved from a model loaded with a real tokenizer keeps its tokenizer_config.json (chat template, special tokens) and generation_config.json (eos id lists).</summary>
public sealed class CheckpointConfigTests
{
    [Fact]
    public void Save_writes_back_the_tokenizer_and_generation_configs_it_was_loaded_with()
    {
        var source = NodeOracle.Model("qwen3");
        var tokenizer = TokenizerJson.Load(Path.Combine(source, "tokenizer.json"));
        var first = TinyModels.TempDir();
        using (var model = new CausalLm(TinyModels.Config() with { VocabSize = tokenizer.VocabSize, NumHiddenLayers = 1 }))
        {
            model.InitializeWeights(1);
            Checkpoint.Save(first, model, tokenizer);
        }
        var original = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer_config.json")))!;
        Assert.True(JsonNode.DeepEquals(original, JsonNode.Parse(File.ReadAllText(Path.Combine(first, Checkpoint.TokenizerConfigFile)))));
        File.WriteAllText(Path.Combine(first, Checkpoint.GenerationConfigFile), "{\"eos_token_id\": [151645, 151643], \"temperature\": 0.6, \"top_p\": 0.95}");

        var loaded = Checkpoint.Load(first);
        var second = TinyModels.TempDir();
        using (loaded.Model) Checkpoint.Save(second, loaded.Model, loaded.Tokenizer);
        var template = ChatTemplate.FromConfig((JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(second, Checkpoint.TokenizerConfigFile)))!, second);
        Assert.Equal(original["chat_template"]!.GetValue<string>(), template.Source);
        var generation = JsonNode.Parse(File.ReadAllText(Path.Combine(second, Checkpoint.GenerationConfigFile)))!;
        Assert.Equal([151645, 151643], generation["eos_token_id"]!.AsArray().Select(x => x!.GetValue<int>()));
        Assert.Equal(0.6, generation["temperature"]!.GetValue<double>());
    }
}
