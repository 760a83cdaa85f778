namespace RolloutCluster.Rewards;

/// <summary>Reward functions by the names job files use.</summary>
public static class RewardRegistry
{
    static readonly Dictionary<string, Func<IRewardFunction>> Factories = new(StringComparer.Ordinal)
    {
        ["math"] = () => new MathReward("math"),
        ["accuracy"] = () => new AccuracyReward(),
        ["format"] = () => new FormatReward(),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static IRewardFunction Create(string name) => Factories.TryGetValue(name, out var make)
        ? make()
        : throw new ArgumentException($"unknown reward '{name}'; known: {string.Join(", ", Factories.Keys)}");
}
