using RolloutCluster.Algorithms;
using RolloutCluster.Model.Weights;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Algorithms;

public sealed class LearnerTests
{
    static List<TrainingSample> Batch(double nanAt = -1)
    {
        var tok = TinyModels.Tokenizer;
        var samples = new List<TrainingSample>();
        string[] completions = ["<think>7+5=12</think><answer>12</answer>", "<answer>13</answer>", "abc", "<think></think>", ""];
        double[] advantages = [1.0, -0.5, 0.7, -1.2, 0.3];
        for (int i = 0; i < completions.Length; i++)
        {
            var c = tok.Encode(completions[i]);
            samples.Add(new TrainingSample(tok.Encode($"Compute: {i} + 7\n"), c, c.Select(_ => -2f).ToArray(), i == nanAt ? double.NaN : advantages[i]));
        }
        return samples;
    }

    static GrpoLearner Learner(RolloutCluster.Model.Transformer.CausalLm model, TrainingOptimizer optimizer, int micro, int maxTokens = 0) =>
        new(model, null, optimizer, new GrpoLearnerConfig { MicroBatchSize = micro, MaxTokensPerMicroBatch = maxTokens }, TinyModels.Tokenizer.VocabSize, TinyModels.Tokenizer.EosId);

    [Theory]
    [InlineData(1, 0)]    // one row per pass
    [InlineData(64, 60)]  // a token budget that splits the batch unevenly (rows are ~20-60 tokens)
    public void Micro_batching_gives_the_full_batch_update(int micro, int maxTokens)
    {
        using var a = TinyModels.Create(seed: 51);
        using var b = TinyModels.Create(seed: 51);
        // A large epsilon keeps Adam's update linear in the gradient, so rounding in near-zero entries stays small.
        var config = new OptimizerConfig { LearningRate = 1e-2, GradClip = 0, Epsilon = 1.0 };
        using var optA = new TrainingOptimizer(a.parameters(), config);
        using var optB = new TrainingOptimizer(b.parameters(), config);
        var ma = Learner(a, optA, micro, maxTokens).Step(Batch());
        var mb = Learner(b, optB, micro: 64).Step(Batch());
        Assert.Equal(ma["actor/grad_norm"], mb["actor/grad_norm"], 4);
        var pa = a.parameters().Select(p => p.detach().clone()).ToList();
        var pb = b.parameters().ToList();
        for (int i = 0; i < pa.Count; i++) Assert.True(pa[i].allclose(pb[i], rtol: 1e-4, atol: 1e-6), $"parameter {i}");
    }

    static GrpoLearner Ppo(RolloutCluster.Model.Transformer.CausalLm model, TrainingOptimizer optimizer, int epochs, int minis) =>
        new(model, null, optimizer, new GrpoLearnerConfig { MicroBatchSize = 2, PpoEpochs = epochs, MiniBatches = minis }, TinyModels.Tokenizer.VocabSize, TinyModels.Tokenizer.EosId);

    [Fact]
    public void One_update_per_batch_has_ratio_one_and_never_clips()
    {
        using var model = TinyModels.Create(seed: 54);
        using var optimizer = new TrainingOptimizer(model.parameters(), new OptimizerConfig { LearningRate = 3e-2 });
        var m = Ppo(model, optimizer, 1, 1).Step(Batch());
        Assert.Equal(1, m["actor/updates"]);
        Assert.Equal(0, m["actor/pg_clipfrac"]);
        Assert.Equal(1.0, m["actor/ratio_max"], 6);
        Assert.Equal(1.0, m["actor/ratio_min"], 6);
    }

    [Theory]
    [InlineData(2, 1)]   // two epochs over the whole batch
    [InlineData(1, 2)]   // one epoch, two mini-batches: the second is trained after the first's update
    public void Later_updates_move_the_ratio_against_the_old_policy_and_clipping_binds(int epochs, int minis)
    {
        using var model = TinyModels.Create(seed: 54);
        using var optimizer = new TrainingOptimizer(model.parameters(), new OptimizerConfig { LearningRate = 3e-2 });
        var m = Ppo(model, optimizer, epochs, minis).Step(Batch());
        Assert.Equal(2, m["actor/updates"]);
        Assert.Equal(2, optimizer.StepsTaken);
        Assert.True(m["actor/pg_clipfrac"] > 0, $"clip fraction {m["actor/pg_clipfrac"]}");
        Assert.True(m["actor/ratio_max"] > 1.28 || m["actor/ratio_min"] < 0.8, $"ratios {m["actor/ratio_min"]} .. {m["actor/ratio_max"]}");
        // The mismatch is measured against the weights that sampled, before any update: the same as with one update.
        using var same = TinyModels.Create(seed: 54);
        using var optSame = new TrainingOptimizer(same.parameters(), new OptimizerConfig { LearningRate = 3e-2 });
        var single = Ppo(same, optSame, 1, 1).Step(Batch());
        Assert.Equal(single["actor/logprob_mismatch_mean"], m["actor/logprob_mismatch_mean"], 4);
    }

    [Fact]
    public void A_non_finite_gradient_is_skipped_and_the_weights_untouched()
    {
        using var model = TinyModels.Create(seed: 52);
        using var optimizer = new TrainingOptimizer(model.parameters(), new OptimizerConfig { LearningRate = 1e-2 });
        var before = WeightPack.Pack(model).Buffer.ToArray();
        var metrics = Learner(model, optimizer, micro: 2).Step(Batch(nanAt: 1));
        Assert.Equal(1, metrics["actor/skipped_step"]);
        Assert.False(double.IsFinite(metrics["actor/grad_norm"]));
        Assert.Equal(before, WeightPack.Pack(model).Buffer.ToArray());
        Assert.Equal(1, optimizer.StepsSkipped);
        // The next good batch trains normally.
        var next = Learner(model, optimizer, micro: 2).Step(Batch());
        Assert.Equal(0, next["actor/skipped_step"]);
        Assert.NotEqual(before, WeightPack.Pack(model).Buffer.ToArray());
    }

    [Fact]
    public void Positive_advantages_raise_the_likelihood_of_their_completion()
    {
        using var model = TinyModels.Create(seed: 53);
        using var optimizer = new TrainingOptimizer(model.parameters(), new OptimizerConfig { LearningRate = 3e-3 });
        var tok = TinyModels.Tokenizer;
        var prompt = tok.Encode("Compute: 1 + 1\n");
        var good = tok.Encode("<answer>2</answer>");
        var bad = tok.Encode("<answer>3</answer>");
        double LogProb(int[] c) { using var _ = no_grad(); return RolloutCluster.Model.Scoring.SequenceScorer.Score(model, [prompt], [c]).LogProbs.sum().item<float>(); }
        double goodBefore = LogProb(good), badBefore = LogProb(bad);
        for (int i = 0; i < 5; i++)
            Learner(model, optimizer, 8).Step([new TrainingSample(prompt, good, new float[good.Length], 1.0), new TrainingSample(prompt, bad, new float[bad.Length], -1.0)]);
        Assert.True(LogProb(good) > goodBefore + 0.5, $"good {goodBefore} → {LogProb(good)}");
        Assert.True(LogProb(bad) < badBefore - 0.5, $"bad {badBefore} → {LogProb(bad)}");
    }

    [Fact]
    public void Sft_learns_a_fixed_completion()
    {
        using var model = TinyModels.Create(seed: 54);
        using var optimizer = new TrainingOptimizer(model.parameters(), new OptimizerConfig { LearningRate = 3e-3 });
        var trainer = new SftTrainer(model, optimizer, microBatchSize: 2, TinyModels.Tokenizer.VocabSize, TinyModels.Tokenizer.EosId);
        var tok = TinyModels.Tokenizer;
        var batch = new[] { new SftExample(tok.Encode("Compute: 2 + 2\n"), [.. tok.Encode("<answer>4</answer>"), tok.EosId]) };
        double first = trainer.Step(batch)["sft/loss"], last = first;
        for (int i = 0; i < 30; i++) last = trainer.Step(batch)["sft/loss"];
        Assert.True(last < first / 4, $"loss {first} → {last}");
    }
}
