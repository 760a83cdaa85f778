using RolloutCluster.Abstractions;
using RolloutCluster.Model.Reward;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Grains;

/// <summary>Verifier grains on a real silo: scoring with a reward model the silo loads itself.</summary>
[Trait("speed", "slow")]   // a whole cluster
[Collection("cluster")]
public sealed class VerifierGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_model_reward_is_scored_in_the_silo_as_the_saved_reward_model_scores_it()
    {
        using var policy = TinyModels.Create(seed: 12);
        using var model = RewardModel.FromPolicy(policy, seed: 13);
        var dir = TinyModels.TempDir();
        model.Save(dir, TinyModels.Tokenizer);
        (string Context, string Completion)[] rows = [("Compute: 2 + 2\n", "<answer>4</answer>"), ("Compute: 9 - 3\n", "<think>9-3=6</think><answer>6</answer>")];
        var request = new ScoreRequest([new RewardWire("model", 1, new Dictionary<string, string> { ["path"] = dir, ["output"] = "logit" }), new RewardWire("format", 0, new Dictionary<string, string>())],
            [.. rows.Select(r => new ScoreItem(r.Completion, null, null, Context: r.Context))]);
        var scores = await fixture.Cluster.GrainFactory.GetGrain<IVerifierGrain>(0).ScoreAsync(request);
        using var noGrad = no_grad();
        for (int i = 0; i < rows.Length; i++)
        {
            using var logit = model.Score([TinyModels.Tokenizer.Encode(rows[i].Context)], [TinyModels.Tokenizer.Encode(rows[i].Completion)], TinyModels.Tokenizer.EosId);
            Assert.Equal(logit.item<float>(), scores[i].Values["model"], 4);
            Assert.Equal(scores[i].Values["model"], scores[i].Total, 12);   // format weighs 0
        }
        Assert.Equal(1.0, scores[1].Values["format"]);
    }
}
