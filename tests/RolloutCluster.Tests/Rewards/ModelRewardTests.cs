using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Reward;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Engine;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Rewards;

/// <summary>The <c>model</c> reward: a saved reward model's scores, batched, as the model itself gives them.</summary>
public sealed class ModelRewardTests
{
    static readonly RewardInput[] Inputs =
    [
        new("<think>7+5=12</think><answer>12</answer>", Context: "Compute: 7 + 5\n"),
        new("<think>a longer trace, so the batch needs left padding</think><answer>13</answer>", Context: "Compute: 7 + 5\n"),
        new("no tags at all", Context: "Compute: 30 - 4\n"),
    ];

    static string SavedRewardModel(string scope)
    {
        using var policy = TinyModels.Create(seed: 3);
        using var model = RewardModel.FromPolicy(policy, seed: 4);
        model.Scope = scope;
        var dir = TinyModels.TempDir();
        model.Save(dir, TinyModels.Tokenizer);
        return dir;
    }

    /// <summary>The model's logit for one (context, text) row scored alone, straight from <see cref="RewardModel.Score"/>.</summary>
    static double Alone(string dir, string context, string text)
    {
        var (model, tokenizer) = RewardModel.Load(dir);
        using (model)
        using (no_grad())
        using (var logit = model.Score([tokenizer.Encode(context)], [tokenizer.Encode(text)], tokenizer.EosId))
            return logit.item<float>();
    }

    [Theory]
    [InlineData("trace")]
    [InlineData("answer")]
    public async Task Each_completion_gets_the_sigmoid_of_the_models_logit_for_what_its_scope_reads(string scope)
    {
        var dir = SavedRewardModel(scope);
        using var models = new RewardModelScorers(batchSize: 2);   // two chunks: padding and chunking must not change a row's score
        var services = new RewardServices { RewardModels = models };
        var probability = RewardRegistry.Create("model", new Dictionary<string, string> { ["path"] = dir }, services);
        var logit = RewardRegistry.Create("model", new Dictionary<string, string> { ["path"] = dir, ["output"] = "logit" }, services);
        Assert.True(probability.Batched);
        var p = await probability.ScoreBatchAsync(Inputs);
        var l = await logit.ScoreBatchAsync(Inputs);
        for (int i = 0; i < Inputs.Length; i++)
        {
            string read = scope == "answer" ? ScopedReward.AnswerPart(Inputs[i].Completion) : Inputs[i].Completion;
            double expected = Alone(dir, Inputs[i].Context!, read);
            Assert.Equal(expected, l[i].Value, 4);
            Assert.Equal(1 / (1 + Math.Exp(-expected)), p[i].Value, 5);
            Assert.Contains($"({scope}): logit", p[i].Reason);
        }
    }

    [Fact]
    public async Task A_reward_set_hands_a_batched_reward_every_completion_in_one_call_and_weights_it()
    {
        var dir = SavedRewardModel("trace");
        using var models = new RewardModelScorers();
        var counting = new CountingScorer(models.Open(dir));
        var set = new RewardSet([new(new ModelReward(counting, dir), 2.0), new(new FormatReward(), 0.5)]);
        var scores = await set.ScoreBatchAsync(Inputs, parallelism: 2);
        Assert.Equal([Inputs.Length], counting.Calls);
        for (int i = 0; i < Inputs.Length; i++)
        {
            Assert.Equal(2.0 * scores[i].Values["model"] + 0.5 * scores[i].Values["format"], scores[i].Total, 12);
            Assert.Equal(scores[i].Values["model"], (await set.ScoreAsync(Inputs[i])).Values["model"], 5);   // one by one: the same score
        }
        Assert.Equal(1.0, scores[0].Values["format"]);
        Assert.Equal(0.0, scores[2].Values["format"]);
    }

    [Fact]
    public void A_policy_checkpoint_or_a_missing_path_is_refused_saying_why()
    {
        using var policy = TinyModels.Create();
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, policy, TinyModels.Tokenizer);
        using var models = new RewardModelScorers();
        var services = new RewardServices { RewardModels = models };
        var error = Assert.Throws<ArgumentException>(() => RewardRegistry.Create("model", new Dictionary<string, string> { ["path"] = dir }, services));
        Assert.Contains("reward 'model': ", error.Message);
        Assert.Contains("not a reward model: it has no scalar head (score.weight", error.Message);
        Assert.Contains("needs path", Assert.Throws<ArgumentException>(() => RewardRegistry.Create("model", null, services)).Message);
        Assert.Contains("output must be probability or logit, found 'odds'",
            Assert.Throws<ArgumentException>(() => RewardRegistry.Create("model", new Dictionary<string, string> { ["path"] = dir, ["output"] = "odds" }, services)).Message);
    }

    sealed class CountingScorer(IRewardModelScorer inner) : IRewardModelScorer
    {
        public List<int> Calls { get; } = [];
        public string Scope => inner.Scope;

        public ValueTask<IReadOnlyList<double>> ScoreAsync(IReadOnlyList<(string Context, string Completion)> items, CancellationToken cancellation = default)
        {
            lock (Calls) Calls.Add(items.Count);
            return inner.ScoreAsync(items, cancellation);
        }
    }
}
