using System.Diagnostics;
using RolloutCluster.Abstractions;
using RolloutCluster.Training.Engine;

namespace RolloutCluster.Grains;

/// <summary>
/// The generator's second half: sampled groups go to a verifier on the same silo (a stateless worker,
/// activated locally) and come back as scored wire groups.
/// </summary>
public static class GroupVerification
{
    public static async Task<GenerateResult> ScoreAsync(IGrainFactory grains, GenerateRequest request, IReadOnlyList<SampledGroup> groups,
        Model.Tokenizers.ITokenizer tokenizer, double sampleSeconds, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var items = GroupSampler.Inputs(groups, tokenizer).Select(i => i.ToWire()).ToList();
        var scores = await grains.GetGrain<IVerifierGrain>(0).ScoreAsync(new ScoreRequest(request.Rewards, items), cancellation);
        var result = new List<ScoredGroupWire>(groups.Count);
        int k = 0;
        foreach (var g in groups)
        {
            var completions = g.Completions.Select(c =>
            {
                var s = scores[k++];
                return new ScoredCompletionWire(c.TokenIds, c.LogProbs, c.Text, c.Finish == Model.Sampling.FinishReason.Length, s.Values, s.Reasons, s.Total);
            }).ToList();
            result.Add(new ScoredGroupWire(g.Problem.ToWire(), g.Prompt, completions, g.WeightsVersion, g.Generator));
        }
        return new GenerateResult(result, sampleSeconds, clock.Elapsed.TotalSeconds);
    }
}
