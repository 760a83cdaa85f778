using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

public sealed class CheckpointTests
{
    static Tensor Logits(CausalLm model)
    {
        using var noGrad = no_grad();
        var ids = tensor(TinyModels.Tokenizer.Encode("Compute: 12 * 7").Select(x => (long)x).ToArray()).unsqueeze(0);
        return model.Forward(ids, arange(ids.shape[1], dtype: int64).unsqueeze(0));
    }

    [Theory]
    [InlineData(true, "qwen2")]
    [InlineData(false, "qwen2")]
    [InlineData(false, "llama")]
    public void Save_then_load_gives_identical_logits(bool tied, string type)
    {
        using var model = TinyModels.Create(seed: 21, tied: tied, type: type);
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, model, TinyModels.Tokenizer);
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
        var loaded = Checkpoint.Load(dir);
        using var _ = loaded.Model;
        Assert.True(Logits(model).eq(Logits(loaded.Model)).all().item<bool>(), "logits differ after save/load");
        Assert.Equal(TinyModels.Tokenizer.Encode("<answer>42</answer>"), loaded.Tokenizer.Encode("<answer>42</answer>"));
    }

    [Fact]
    public void Hugging_face_tensor_names_are_written()
    {
        using var model = TinyModels.Create(tied: false);
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, model, TinyModels.Tokenizer);
        var names = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors")).Entries.Keys.ToHashSet();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", names);
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", names);
        Assert.Contains("model.layers.1.mlp.gate_proj.weight", names);
        Assert.Contains("model.layers.1.post_attention_layernorm.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.Contains("lm_head.weight", names);
        Assert.DoesNotContain(names, n => n.Contains("rotary", StringComparison.Ordinal));
        Assert.Equal(TinyModels.Config(tied: false).ParameterCount(), model.parameters().Sum(p => p.NumberOfElements));
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void Half_precision_files_load_into_a_float32_model(ScalarType stored)
    {
        using var model = TinyModels.Create(seed: 22);
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, model, TinyModels.Tokenizer, saveAs: stored);
        var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        Assert.All(file.Entries.Values, e => Assert.Equal(stored, e.DType));
        var loaded = Checkpoint.Load(dir);
        using var _ = loaded.Model;
        Assert.Equal(ScalarType.Float32, loaded.Model.DType);
        var original = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in loaded.Model.named_parameters())
        {
            // Loaded values are exactly the original rounded to the stored dtype.
            var rounded = original[name].detach().to(stored).to(ScalarType.Float32);
            Assert.True(p.eq(rounded).all().item<bool>(), name);
        }
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var dir = SavedCheckpoint(out var model);
        var tensors = model.HfTensors().Where(p => p.Name != "model.norm.weight").ToList();
        SafeTensorsFile.Write(Path.Combine(dir, "model.safetensors"), tensors);
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.Contains("missing tensor 'model.norm.weight'", e.Message);
        Assert.Contains("[64]", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void An_unexpected_tensor_is_named()
    {
        var dir = SavedCheckpoint(out var model);
        var tensors = model.HfTensors().Append(("model.layers.9.extra.weight", zeros(3, 5))).ToList();
        SafeTensorsFile.Write(Path.Combine(dir, "model.safetensors"), tensors);
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.Contains("unexpected tensor 'model.layers.9.extra.weight' of shape [3, 5]", e.Message);
    }

    [Fact]
    public void A_shape_that_disagrees_with_config_names_the_tensor_and_both_shapes()
    {
        var dir = SavedCheckpoint(out var model);
        var tensors = model.HfTensors()
            .Select(p => (p.Name, p.Name == "model.layers.1.mlp.up_proj.weight" ? zeros(150, 64) : p.Tensor)).ToList();
        SafeTensorsFile.Write(Path.Combine(dir, "model.safetensors"), tensors);
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.Contains("tensor 'model.layers.1.mlp.up_proj.weight' has shape [150, 64] but config.json implies [160, 64]", e.Message);
    }

    [Fact]
    public void A_truncated_safetensors_file_is_reported()
    {
        var dir = SavedCheckpoint(out _);
        var path = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 1000)]);
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.StartsWith(path + ": truncated", e.Message);
        File.WriteAllBytes(path, bytes[..100]);
        e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.StartsWith(path + ": truncated: header needs", e.Message);
    }

    [Fact]
    public void A_config_with_a_missing_field_is_reported_with_the_field()
    {
        var dir = SavedCheckpoint(out _);
        var path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, string.Join("\n", File.ReadAllLines(path).Where(l => !l.Contains("\"num_hidden_layers\""))));
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains("num_hidden_layers", e.Message);
    }

    [Fact]
    public void A_config_with_an_impossible_value_is_reported_with_the_field()
    {
        var dir = SavedCheckpoint(out _);
        var path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.Contains("'num_attention_heads' (4) must be a multiple of 'num_key_value_heads' (3)", e.Message);
    }

    [Fact]
    public void A_tokenizer_file_that_is_not_json_is_reported()
    {
        var dir = SavedCheckpoint(out _);
        var path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, "version: 1.0\nthis is yaml, not json\n");
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.StartsWith(path + ": not valid JSON", e.Message);
    }

    static string SavedCheckpoint(out CausalLm model)
    {
        model = TinyModels.Create(seed: 23);
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, model, TinyModels.Tokenizer);
        return dir;
    }
}
