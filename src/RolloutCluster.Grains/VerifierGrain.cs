using Orleans.Concurrency;
using RolloutCluster.Abstractions;
using RolloutCluster.Rewards;

namespace RolloutCluster.Grains;

/// <summary>
/// Scores completions. A stateless worker: Orleans runs several activations per silo and calls go to
/// the caller's silo, so scoring never crosses the network after sampling.
/// </summary>
[StatelessWorker]
public sealed class VerifierGrain(RewardSets rewards) : Grain, IVerifierGrain
{
    public async Task<IReadOnlyList<ScoreWire>> ScoreAsync(ScoreRequest request, CancellationToken cancellation = default)
    {
        var set = await rewards.GetAsync(request.Rewards.Select(r => r.FromWire()).ToList(), cancellation);
        var scores = new ScoreWire[request.Items.Count];
        // Items are independent; code rewards overlap in the sandbox's lanes.
        await Parallel.ForEachAsync(Enumerable.Range(0, request.Items.Count), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation },
            async (i, ct) =>
            {
                var item = request.Items[i];
                scores[i] = (await set.ScoreAsync(item.FromWire(), ct)).ToWire();
            });
        return scores;
    }
}
