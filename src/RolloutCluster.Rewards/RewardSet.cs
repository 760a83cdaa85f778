namespace RolloutCluster.Rewards;

/// <summary>A reward function with its weight in the total.</summary>
public sealed record WeightedReward(IRewardFunction Function, double Weight);

/// <summary>The weighted total of several rewards, with each one's value and reason.</summary>
public sealed record RewardBreakdown(double Total, IReadOnlyDictionary<string, double> Values, IReadOnlyDictionary<string, string> Reasons);

/// <summary>Rewards combined with weights, as a job's `rewards:` section lists them.</summary>
public sealed class RewardSet(IReadOnlyList<WeightedReward> rewards)
{
    public IReadOnlyList<WeightedReward> Rewards => rewards;

    /// <summary>Scores one completion with every function; the total is Σ weight · value.</summary>
    public async ValueTask<RewardBreakdown> ScoreAsync(RewardInput input, CancellationToken cancellation = default) =>
        (await ScoreBatchAsync([input], 1, cancellation))[0];

    /// <summary>
    /// Scores completions with every function: batched functions (a reward model) once over all of
    /// them, the others item by item with up to <paramref name="parallelism"/> items at a time (code
    /// rewards overlap in the sandbox's lanes). Totals are Σ weight · value, in input order.
    /// </summary>
    public async ValueTask<IReadOnlyList<RewardBreakdown>> ScoreBatchAsync(IReadOnlyList<RewardInput> inputs, int parallelism, CancellationToken cancellation = default)
    {
        var results = new RewardResult[rewards.Count][];
        var single = Enumerable.Range(0, rewards.Count).Where(f => !rewards[f].Function.Batched).ToList();
        foreach (int f in single) results[f] = new RewardResult[inputs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, inputs.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellation },
            async (i, ct) =>
            {
                foreach (int f in single) results[f][i] = await rewards[f].Function.ScoreAsync(inputs[i], ct);
            });
        for (int f = 0; f < rewards.Count; f++)
            if (rewards[f].Function.Batched)
            {
                var batch = await rewards[f].Function.ScoreBatchAsync(inputs, cancellation);
                if (batch.Count != inputs.Count) throw new InvalidOperationException($"reward '{rewards[f].Function.Name}' returned {batch.Count} scores for {inputs.Count} completions");
                results[f] = [.. batch];
            }
        return [.. Enumerable.Range(0, inputs.Count).Select(i => Breakdown(results, i))];
    }

    RewardBreakdown Breakdown(RewardResult[][] results, int item)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        double total = 0;
        for (int f = 0; f < rewards.Count; f++)
        {
            var result = results[f][item];
            values[rewards[f].Function.Name] = result.Value;
            reasons[rewards[f].Function.Name] = result.Reason;
            total += rewards[f].Weight * result.Value;
        }
        return new RewardBreakdown(total, values, reasons);
    }
}
