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
    public async ValueTask<RewardBreakdown> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        double total = 0;
        foreach (var (function, weight) in rewards)
        {
            var result = await function.ScoreAsync(input, cancellation);
            values[function.Name] = result.Value;
            reasons[function.Name] = result.Reason;
            total += weight * result.Value;
        }
        return new RewardBreakdown(total, values, reasons);
    }
}
