using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

/// <summary>
/// Our model against benchmarks/reference/qwen2_reference.py, a plain PyTorch implementation run by
/// Debian's python3-torch (test.sh installs it) on the same safetensors file.
/// </summary>
public sealed class ReferenceParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("qwen2", false, 2, null)]
    [InlineData("llama", true, 4, null)]
    [InlineData("qwen3", false, 2, null)]
    [InlineData("llama", false, 2, "{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}")]
    [InlineData("llama", true, 2, "{\"type\": \"linear\", \"factor\": 2.0}")]
    [InlineData("qwen2", true, 2, "{\"rope_type\": \"yarn\", \"factor\": 4.0, \"original_max_position_embeddings\": 64}")]
    public void Logits_match_the_plain_pytorch_reference(string type, bool tied, int kvHeads, string? ropeScaling)
    {
        var config = TinyModels.Config(kvHeads, tied, type) with
        {
            NumHiddenLayers = 3, RopeTheta = 1_000_000, InitializerRange = 0.1, HeadDimOverride = type == "qwen3" ? 32 : null,
            RopeScaling = ropeScaling is null ? null : System.Text.Json.JsonDocument.Parse(ropeScaling).RootElement,
        };
        using var model = new CausalLm(config);
        model.InitializeWeights(41);
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, model, TinyModels.Tokenizer);

        var tensors = new List<(string, Tensor)>();
        string[] prompts = ["Compute: 37 + 485", "<think>7 + 5 = 12</think><answer>12</answer>", "ünïcödé 🙂 and a much longer prompt to cover more positions of the rotary table"];
        using (var noGrad = no_grad())
        {
            for (int i = 0; i < prompts.Length; i++)
            {
                var ids = tensor(TinyModels.Tokenizer.Encode(prompts[i]).Select(x => (long)x).ToArray());
                var logits = model.Forward(ids.unsqueeze(0), arange(ids.shape[0], dtype: int64).unsqueeze(0))[0]; // (T, V)
                tensors.Add(($"input_ids_{i}", ids));
                tensors.Add(($"logits_{i}", logits));
            }
        }
        Assert.Contains("max_abs_logit_diff=", CompareWithReference(dir, tensors));
    }

    /// <summary>Writes our input ids and logits beside the checkpoint in dir and has the PyTorch reference compare its own (tolerance 1e-4); returns its report.</summary>
    string CompareWithReference(string dir, List<(string, Tensor)> tensors)
    {
        var ours = Path.Combine(dir, "ours.safetensors");
        SafeTensorsFile.Write(ours, tensors);
        var (code, stdout, stderr) = ProcessRunner.Run("/usr/bin/python3",
            [RepoPaths.Of("benchmarks", "reference", "compare_logits.py"), dir, ours, "--tolerance", "1e-4"]);
        output.WriteLine(stdout);
        Assert.True(code == 0, $"reference comparison failed (exit {code}): {stdout} {stderr}");
        return stdout;
    }

    /// <summary>
    /// LoRA: our logits through the adapter path (base weights untouched, q/k/v and gate/up adapters
    /// added into the fused projections' slices) against the reference on the merged checkpoint.
    /// </summary>
    [Fact]
    public void Lora_logits_match_the_reference_on_the_merged_checkpoint()
    {
        using var model = new CausalLm(TinyModels.Config(kvHeads: 2, tied: false) with { NumHiddenLayers = 2, InitializerRange = 0.1 });
        model.InitializeWeights(43);
        model.AttachLora(new RolloutCluster.Model.Lora.LoraConfig(4, 8, 0, ["q_proj", "v_proj", "o_proj", "up_proj", "down_proj"]), seed: 44);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith(".B", StringComparison.Ordinal)))
                p.copy_(randn(p.shape, generator: new Generator(45)) * 0.1);   // B is zero at first: make the adapters matter
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, model, TinyModels.Tokenizer);
        Assert.True(File.Exists(Path.Combine(dir, "adapter", "adapter_model.safetensors")));

        var tensors = new List<(string, Tensor)>();
        using (var noGrad = no_grad())
        {
            var ids = tensor(TinyModels.Tokenizer.Encode("Compute: 37 + 485 with adapters").Select(x => (long)x).ToArray());
            tensors.Add(("input_ids_0", ids));
            tensors.Add(("logits_0", model.Forward(ids.unsqueeze(0), arange(ids.shape[0], dtype: int64).unsqueeze(0))[0]));
        }
        CompareWithReference(dir, tensors);
    }
}
