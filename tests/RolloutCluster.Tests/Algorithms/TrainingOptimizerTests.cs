using RolloutCluster.Algorithms;
using RolloutCluster.Model.Scoring;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Algorithms;

/// <summary>Our AdamW against libtorch's (torch.optim.AdamW through TorchSharp) on the same model and gradients.</summary>
public sealed class TrainingOptimizerTests
{
    static void Backward(RolloutCluster.Model.Transformer.CausalLm model, int step)
    {
        var tok = TinyModels.Tokenizer;
        var scores = SequenceScorer.Score(model, [tok.Encode($"Compute: {step} + 4\n")], [tok.Encode($"<answer>{step + 4}</answer>")]);
        (-scores.LogProbs.sum()).backward();
    }

    [Fact]
    public void Steps_match_torch_AdamW_with_weight_decay_and_bias_correction()
    {
        using var ours = TinyModels.Create(seed: 61);
        using var theirs = TinyModels.Create(seed: 61);
        var config = new OptimizerConfig { LearningRate = 1e-2, WeightDecay = 0.1, Beta1 = 0.8, Beta2 = 0.95, Epsilon = 1e-6, GradClip = 0 };
        using var optimizer = new TrainingOptimizer(ours.parameters(), config);
        using var reference = optim.AdamW(theirs.parameters(), config.LearningRate, config.Beta1, config.Beta2, config.Epsilon, config.WeightDecay);
        for (int step = 0; step < 4; step++)
        {
            optimizer.ZeroGrad();
            Backward(ours, step);
            optimizer.Step();
            reference.zero_grad();
            Backward(theirs, step);
            reference.step();
        }
        var a = ours.parameters().ToList();
        var b = theirs.parameters().ToList();
        for (int i = 0; i < a.Count; i++) Assert.True(a[i].allclose(b[i], rtol: 1e-5, atol: 1e-7), $"parameter {i}: max diff {(a[i] - b[i]).abs().max().item<float>()}");
        Assert.True((a[0] - TinyModels.Create(seed: 61).parameters().First()).abs().max().item<float>() > 1e-3, "the weights should have moved");
    }

    [Fact]
    public void Saved_state_resumes_to_the_same_weights_and_a_foreign_file_is_refused()
    {
        var config = new OptimizerConfig { LearningRate = 1e-2, GradClip = 1.0 };
        using var straight = TinyModels.Create(seed: 62);
        using var resumed = TinyModels.Create(seed: 62);
        using var optA = new TrainingOptimizer(straight.parameters(), config);
        using var optB = new TrainingOptimizer(resumed.parameters(), config);
        for (int step = 0; step < 2; step++) { optA.ZeroGrad(); Backward(straight, step); optA.Step(); optB.ZeroGrad(); Backward(resumed, step); optB.Step(); }
        var path = Path.Combine(TinyModels.TempDir(), "optimizer.bin");
        optB.Save(path);
        using var optC = new TrainingOptimizer(resumed.parameters(), config);
        optC.Load(path);
        Assert.Equal(2, optC.StepsTaken);
        optA.ZeroGrad(); Backward(straight, 2); optA.Step();
        optC.ZeroGrad(); Backward(resumed, 2); optC.Step();
        Assert.All(straight.parameters().Zip(resumed.parameters()), p => Assert.True(p.First.eq(p.Second).all().item<bool>()));

        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var e = Assert.Throws<InvalidDataException>(() => new TrainingOptimizer(resumed.parameters(), config).Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not an optimizer state", e.Message);
    }
}
