using System.Text.Json;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Transformer;
using TorchSharp;

namespace RolloutCluster.Tests.Model;

/// <summary>Qwen3 and Llama 3 families: published shapes, rope scaling, eos lists, checkpoint names. (Logit parity: ReferenceParityTests.)</summary>
public sealed class ModelFamilyTests
{
    [Theory]
    [InlineData("qwen2.5-0.5b", 494_032_768L)]
    [InlineData("qwen2.5-1.5b", 1_543_714_304L)]
    [InlineData("qwen2.5-7b", 7_615_616_512L)]
    [InlineData("qwen3-0.6b", 596_049_920L)]
    [InlineData("qwen3-8b", 8_190_735_360L)]
    [InlineData("llama3.2-1b", 1_235_814_400L)]
    [InlineData("llama3.1-8b", 8_030_261_248L)]
    public void Presets_have_the_published_parameter_counts(string preset, long published)
    {
        var config = ModelPresets.Get(preset, 256);
        Assert.Null(config.Validate());
        Assert.Equal(published, config.ParameterCount());
    }

    [Fact]
    public void An_unknown_preset_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelPresets.Get("qwen9-1t", 256));
        Assert.Contains("unknown model preset 'qwen9-1t'; known: tiny, small, bench-10m, bench-100m, qwen2.5-0.5b", e.Message);
    }

    [Fact]
    public void Llama3_scaling_divides_long_wavelengths_keeps_short_ones_and_blends_between()
    {
        var plain = TinyModels.Config(type: "llama") with { HeadDimOverride = 64, RopeTheta = 500_000 };
        var scaled = plain with { RopeScaling = JsonDocument.Parse("{\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 8192}").RootElement };
        var (basic, _) = RopeScaling.Compute(plain);
        var (llama, factor) = RopeScaling.Compute(scaled);
        Assert.Equal(1.0, factor);
        Assert.Equal(basic[0], llama[0]);                                 // shortest wavelength: untouched
        Assert.Equal(basic[^1] / 8, llama[^1], 1e-12f);                   // longest: divided by the factor
        Assert.Contains(Enumerable.Range(0, 32), i => llama[i] < basic[i] && llama[i] > basic[i] / 8);   // the blend between
    }

    [Theory]
    [InlineData("{\"rope_type\": \"dynamic\", \"factor\": 2}", "field 'rope_scaling.rope_type' is \"dynamic\"; supported: default, linear, llama3, yarn (dynamic NTK scaling depends on each sequence's length)")]
    [InlineData("{\"rope_type\": \"longrope\"}", "field 'rope_scaling.rope_type' is \"longrope\"; supported: default, linear, llama3, yarn")]
    [InlineData("{\"rope_type\": \"llama3\", \"factor\": 8}", "field 'rope_scaling.low_freq_factor' must be a positive number for rope_type \"llama3\"")]
    public void Unknown_or_incomplete_rope_scaling_is_refused_naming_the_field(string scaling, string message)
    {
        var dir = TinyModels.TempDir();
        var json = JsonSerializer.Serialize(TinyModels.Config(type: "llama")).Replace("\"rope_scaling\":null", $"\"rope_scaling\": {scaling}");
        Assert.Contains(scaling, json);
        File.WriteAllText(Path.Combine(dir, "config.json"), json);
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(Path.Combine(dir, "config.json")));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Eos_id_lists_load_and_a_qwen3_checkpoint_round_trips_with_its_head_norms()
    {
        var dir = TinyModels.TempDir();
        using (var model = new CausalLm(TinyModels.Config(type: "qwen3") with { HeadDimOverride = 32, EosTokenIds = [256, 257] }))
        {
            model.InitializeWeights(4);
            Checkpoint.Save(dir, model, TinyModels.Tokenizer);
            Assert.Contains(model.HfTensors(), t => t.Name == "model.layers.1.self_attn.k_norm.weight" && t.Tensor.shape.SequenceEqual([32L]));
        }
        Assert.Contains("\"eos_token_id\": [", File.ReadAllText(Path.Combine(dir, "config.json")));
        var loaded = Checkpoint.Load(dir);
        using (loaded.Model)
        {
            Assert.Equal("qwen3", loaded.Config.ModelType);
            Assert.Equal([256, 257], loaded.Config.EosTokenIds!);
            Assert.False(loaded.Config.QkvBias);
        }
    }

    [Theory]
    [InlineData("qwen2")]
    [InlineData("qwen3")]
    public void A_model_converted_to_bf16_runs_and_stays_close_to_fp32(string type)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var model = new CausalLm(TinyModels.Config(type: type) with { HeadDimOverride = type == "qwen3" ? 32 : null });
        model.InitializeWeights(9);
        var ids = TorchSharp.torch.tensor(TinyModels.Tokenizer.Encode("Compute: 37 + 485").Select(x => (long)x).ToArray()).unsqueeze(0);
        var positions = TorchSharp.torch.arange(ids.shape[1], dtype: TorchSharp.torch.ScalarType.Int64).unsqueeze(0);
        using var noGrad = TorchSharp.torch.no_grad();
        var fp32 = model.Forward(ids, positions);
        model.to(TorchSharp.torch.ScalarType.BFloat16);
        var bf16 = model.Forward(ids, positions).to(TorchSharp.torch.ScalarType.Float32);
        // bf16 keeps 8 bits of mantissa: the stated tolerance is 3% of the largest logit.
        double diff = (fp32 - bf16).abs().max().item<float>(), scale = fp32.abs().max().item<float>();
        Assert.True(diff < 0.03 * scale, $"max |fp32 - bf16| logit difference {diff} against logits up to {scale}");
        model.to(TorchSharp.torch.ScalarType.Float32);
        Assert.True((fp32 - model.Forward(ids, positions)).abs().max().item<float>() < 0.03 * scale);
    }
}
