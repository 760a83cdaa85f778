using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Reward;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Training.Evaluation;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

/// <summary>The outcome reward model: its layout on disk, its scores against the PyTorch reference, the AUC it is judged by.</summary>
public sealed class RewardModelTests(ITestOutputHelper output)
{
    static readonly string[] Texts = ["Compute: 37 + 485\n", "<think>7+5=12</think><answer>12</answer>", "a longer row so the batch needs left padding"];

    static RewardModel Trained(string type = "qwen2", bool tied = true)
    {
        using var policy = new CausalLm(TinyModels.Config(2, tied, type) with { InitializerRange = 0.1 });
        policy.InitializeWeights(7);
        return RewardModel.FromPolicy(policy, seed: 8);
    }

    static float[] Scores(RewardModel model, IReadOnlyList<string> texts)
    {
        using var noGrad = no_grad();
        using var scores = model.Score(texts.Select(t => TinyModels.Tokenizer.Encode(t)).ToList(), texts.Select(_ => Array.Empty<int>()).ToList(), TinyModels.Tokenizer.EosId);
        return scores.data<float>().ToArray();
    }

    [Theory]
    [InlineData("qwen2", true)]
    [InlineData("llama", false)]
    public void It_saves_as_ForSequenceClassification_and_loads_back_to_the_same_scores(string type, bool tied)
    {
        using var model = Trained(type, tied);
        var dir = TinyModels.TempDir();
        model.Save(dir, TinyModels.Tokenizer);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, Checkpoint.ConfigFile)))!;
        Assert.Equal(type == "qwen2" ? "Qwen2ForSequenceClassification" : "LlamaForSequenceClassification", (string?)config["architectures"]![0]);
        Assert.Equal(1, (int?)config["num_labels"]);
        var names = CheckpointShards.Open(dir).Keys.ToList();
        Assert.Contains(RewardModel.HeadTensor, names);
        Assert.DoesNotContain("lm_head.weight", names);
        RewardModel.Check(dir);
        var (loaded, _) = RewardModel.Load(dir);
        using (loaded) Assert.Equal(Scores(model, Texts), Scores(loaded, Texts));
    }

    [Fact]
    public void A_batch_left_padded_scores_each_row_as_it_scores_alone()
    {
        using var model = Trained();
        var together = Scores(model, Texts);
        for (int i = 0; i < Texts.Length; i++) Assert.Equal(Scores(model, [Texts[i]])[0], together[i], 4);
    }

    [Fact]
    public void Scores_match_the_plain_pytorch_reference_reading_the_last_hidden_state_through_score_weight()
    {
        using var model = Trained();
        var dir = TinyModels.TempDir();
        model.Save(dir, TinyModels.Tokenizer);
        var tensors = new List<(string, Tensor)>();
        var scores = Scores(model, Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            tensors.Add(($"input_ids_{i}", tensor(TinyModels.Tokenizer.Encode(Texts[i]).Select(x => (long)x).ToArray())));
            tensors.Add(($"score_{i}", tensor(new[] { scores[i] })));
        }
        var ours = Path.Combine(dir, "ours.safetensors");
        SafeTensorsFile.Write(ours, tensors);
        var (code, stdout, stderr) = ProcessRunner.Run("/usr/bin/python3", [RepoPaths.Of("benchmarks", "reference", "compare_reward_scores.py"), dir, ours, "--tolerance", "1e-4"]);
        output.WriteLine(stdout);
        Assert.True(code == 0, $"reference comparison failed (exit {code}): {stdout} {stderr}");
        Assert.Contains("sequences=3", stdout);
    }

    [Fact]
    public void A_checkpoint_without_a_scalar_head_is_refused_as_not_a_reward_model()
    {
        using var policy = TinyModels.Create();
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, policy, TinyModels.Tokenizer);
        var error = Assert.Throws<ModelFormatException>(() => RewardModel.Load(dir));
        Assert.Contains("not a reward model: it has no scalar head (score.weight, shape [1, 64])", error.Message);
        Assert.Contains("Qwen2ForCausalLM", error.Message);
        Assert.Equal(error.Message, Assert.Throws<ModelFormatException>(() => RewardModel.Check(dir)).Message);   // the headers-only check says the same
    }

    [Theory]
    [InlineData(new[] { 0.1, 0.4, 0.35, 0.8 }, new[] { false, false, true, true }, 0.75)]   // scikit-learn's roc_auc_score example
    [InlineData(new[] { 0.5, 0.5 }, new[] { true, false }, 0.5)]                             // a tie counts half
    [InlineData(new[] { 3.0, 2.0, 1.0 }, new[] { true, true, false }, 1.0)]
    [InlineData(new[] { 3.0, 2.0, 1.0 }, new[] { false, false, true }, 0.0)]
    public void Auc_is_the_chance_a_positive_outscores_a_negative(double[] scores, bool[] labels, double expected) =>
        Assert.Equal(expected, Auc.Compute(scores, labels)!.Value, 12);

    [Fact]
    public void Auc_is_undefined_with_one_class() => Assert.Null(Auc.Compute([0.1, 0.2], [true, true]));
}
