using RolloutCluster.Abstractions;
using RolloutCluster.Data;
using RolloutCluster.Grains;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Training.Engine;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// A test double for the orchestration and broadcast benchmarks only: a generator that fetches the requested weights
/// version through the silo's cache like the real one, then "samples" instantly (half of each group
/// answers right, half wrong, so groups carry signal) and has the completions scored by the real
/// verifier. What remains is the cluster's own cost: dispatch, weight broadcast, scoring, transport.
/// </summary>
[SiloKeyedPlacement]
public sealed class InstantGeneratorGrain(WeightCache cache, GeneratorActivity activity) : Grain, IGeneratorGrain
{
    ITokenizer? _tokenizer;

    public async Task<GenerateResult> GenerateAsync(GenerateRequest request, CancellationToken cancellation = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var weights = await cache.LeaseAsync(request.Job, request.Epoch, request.Version);
        // A LoRA version is the adapters alone: the frozen base comes once per silo, as the real generator fetches it.
        using var baseWeights = weights.Manifest.BaseChecksum is null ? null : await cache.LeaseAsync(request.Job, request.Epoch, WeightStore.BaseVersion);
        double weightsSeconds = clock.Elapsed.TotalSeconds;
        if (_tokenizer is null)
        {
            var wire = await GrainFactory.GetGrain<ILearnerGrain>(request.Job).GetTokenizerAsync();
            _tokenizer = TokenizerJson.Parse(wire.Json, wire.EosToken, "benchmark tokenizer");
        }
        var groups = request.Problems.Select((p, i) =>
        {
            var completions = Enumerable.Range(0, request.GroupSize).Select(i =>
            {
                string text = PromptTemplate.Completion("x", i % 2 == 0 ? p.Answer : p.Answer + "1");
                int[] ids = _tokenizer.Encode(text);
                return new Completion(ids, Enumerable.Repeat(-0.5f, ids.Length).ToArray(), text, FinishReason.Stop);
            }).ToList();
            return new SampledGroup(p.FromWire(), request.Prompts[i], completions, request.Version, this.GetPrimaryKeyString());
        }).ToList();
        var result = await GroupVerification.ScoreAsync(GrainFactory, request, groups, _tokenizer, 0, cancellation);
        activity.Record(this.GetPrimaryKeyString(), 0, result.ScoreSeconds, result.Groups.Count);
        return result with { WeightsSeconds = weightsSeconds };
    }
}
