using RolloutCluster.Model.Lora;
using RolloutCluster.Model.Scoring;
using RolloutCluster.Model.Transformer;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

/// <summary>Activation checkpointing recomputes each layer in backward: the same loss and the same gradients as keeping the activations.</summary>
public sealed class ActivationCheckpointingTests
{
    static readonly int[][] Prompts = [[5, 9, 12, 40], [7, 8]];
    static readonly int[][] Completions = [[20, 21, 22], [30, 31, 32, 33, 34]];   // rows of different lengths: padded, masked

    static (float Loss, Dictionary<string, Tensor> Grads) Step(CausalLm model)
    {
        model.train();
        model.zero_grad();
        using var scores = SequenceScorer.Score(model, Prompts, Completions, 0.8f, entropy: false, vocabLimit: TinyModels.Tokenizer.VocabSize);
        var loss = -(scores.LogProbs * scores.Mask).sum();
        loss.backward();
        return (loss.item<float>(), model.named_parameters().Where(p => p.parameter.grad is not null).ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
    }

    static void AssertSameGradients(CausalLm model)
    {
        var (plainLoss, plain) = Step(model);
        model.ActivationCheckpointing = true;
        var (loss, grads) = Step(model);
        Assert.Equal(plainLoss, loss, 5);
        Assert.Equal(plain.Keys.Order(), grads.Keys.Order());
        foreach (var (name, g) in plain)
        {
            var gap = (grads[name] - g).abs().max().item<float>();
            Assert.True(gap <= 1e-5 * Math.Max(1, g.abs().max().item<float>()), $"{name}: gradients differ by {gap}");
        }
    }

    [Fact]
    public void Checkpointed_layers_give_the_gradients_of_kept_activations()
    {
        using var model = TinyModels.Create(seed: 70, kvHeads: 2, tied: false);
        AssertSameGradients(model);
    }

    [Fact]
    public void Under_lora_only_the_adapters_get_gradients_with_or_without_checkpointing()
    {
        using var model = TinyModels.Create(seed: 71);
        model.AttachLora(new LoraConfig(4, 8, 0, ["q_proj", "v_proj", "down_proj"]), seed: 3);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith(".B", StringComparison.Ordinal))) p.copy_(randn(p.shape) * 0.05);
        AssertSameGradients(model);
        var (_, grads) = Step(model);
        Assert.All(grads.Keys, name => Assert.True(CausalLm.IsLora(name), name));
        var dropout = TinyModels.Create(seed: 72);
        dropout.AttachLora(new LoraConfig(4, 8, 0.1, ["q_proj"]), seed: 3);
        Assert.Contains("set lora dropout to 0", Assert.Throws<InvalidOperationException>(() => dropout.ActivationCheckpointing = true).Message);
    }
}
