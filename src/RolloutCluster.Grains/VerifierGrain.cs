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
        // Items are independent: code rewards overlap in the sandbox's lanes, a reward model scores them in batches.
        var scores = await set.ScoreBatchAsync([.. request.Items.Select(i => i.FromWire())], Environment.ProcessorCount, cancellation);
        return [.. scores.Select(s => s.ToWire())];
    }
}
