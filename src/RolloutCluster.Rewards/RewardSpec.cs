namespace RolloutCluster.Rewards;

/// <summary>A reward function by name, with its weight in the total and its options (e.g. length's effort, http's url).</summary>
public sealed record RewardSpec(string Name, double Weight, IReadOnlyDictionary<string, string>? Options = null)
{
    public bool Equals(RewardSpec? other) => other is not null && Key == other.Key;

    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);

    /// <summary>A canonical text of the spec (name, weight, sorted options), the key reward sets are cached by.</summary>
    public string Key => $"{Name}:{Weight:R}:{string.Join(",", (Options ?? new Dictionary<string, string>()).OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value}"))}";
}
