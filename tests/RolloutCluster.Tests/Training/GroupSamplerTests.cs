using RolloutCluster.Data;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Tests.Training;

public sealed class GroupSamplerTests
{
    [Fact]
    public void A_kv_cache_token_budget_cuts_sampling_into_passes_without_changing_what_is_sampled()
    {
        using var policy = new Policy(TinyModels.Create(seed: 8), TinyModels.Tokenizer, PromptTemplate.Plain);
        var problems = new[] { new Problem("a", "Compute: 1 + 2", "3"), new Problem("b", "Compute: 40 * 7 and then some more words", "280"), new Problem("c", "Hi", "0") };
        var whole = GroupSampler.Sample(policy, problems, groupSize: 4, new SamplingSpec(1f, 1f, 0, 12), seed: 9, weightsVersion: 0);
        // 12 rows of 2-40 prompt tokens (bytes) + 12 new: a budget of 150 tokens allows 2-10 rows a pass.
        var budgeted = GroupSampler.Sample(policy, problems, groupSize: 4, new SamplingSpec(1f, 1f, 0, 12, MaxBatchTokens: 150), seed: 9, weightsVersion: 0);
        Assert.Equal(whole.SelectMany(g => g.Completions.Select(c => c.TokenIds)), budgeted.SelectMany(g => g.Completions.Select(c => c.TokenIds)));
        var passes = RolloutCluster.Algorithms.MicroBatches.Split(whole.SelectMany(g => Enumerable.Repeat(g.Prompt.Length + 12, 4)).ToList(), n => n, 256, 150);
        Assert.True(passes.Count >= 4, $"{passes.Count} passes");
        Assert.All(passes, p => Assert.True(p.Length * p.Max() <= 150 || p.Length == 1));
    }
}
