using System.Globalization;
using System.Text.RegularExpressions;

namespace RolloutCluster.Rewards;

/// <summary>
/// A reasoning-length budget by effort level, as a soft overlong penalty (DAPO-style): 0 while the
/// reasoning (the text inside &lt;think&gt;, else the whole completion) is within the level's budget of
/// characters, then falling linearly to -1 over a buffer of a quarter of the budget. Added to an
/// accuracy reward it trades correctness against length. The level is fixed, or with effort "prompt"
/// the one each prompt asks for (<see cref="Effort"/>; medium when it asks for none); the budgets are options.
/// </summary>
public sealed partial class LengthReward : IRewardFunction
{
    public const string FromPrompt = "prompt";

    public static readonly IReadOnlyDictionary<string, int> DefaultBudgets = new Dictionary<string, int>
    {
        ["low"] = 512,
        ["medium"] = 2048,
        ["high"] = 8192,
    };

    readonly string _effort;
    readonly IReadOnlyDictionary<string, int> _budgets;

    /// <param name="effort">A level, or "prompt".</param>
    /// <param name="budget">The fixed level's budget (not with "prompt").</param>
    /// <param name="budgets">Budgets by level, over the defaults.</param>
    public LengthReward(string effort = "medium", int? budget = null, IReadOnlyDictionary<string, int>? budgets = null)
    {
        if (effort != FromPrompt && !Effort.Levels.Contains(effort))
            throw new ArgumentException($"unknown effort '{effort}'; known: {string.Join(", ", Effort.Levels)}, or {FromPrompt} (the level each prompt asks for)");
        if (effort == FromPrompt && budget is not null) throw new ArgumentException("budget sets one level's budget; with effort: prompt set low, medium and high instead");
        var all = new Dictionary<string, int>(DefaultBudgets);
        foreach (var (level, value) in budgets ?? new Dictionary<string, int>()) all[Effort.Check(level)] = value;
        if (budget is not null) all[effort] = budget.Value;
        if (all.FirstOrDefault(kv => kv.Value <= 0) is { Key: not null } bad) throw new ArgumentException($"budget must be positive, found {bad.Value} for {bad.Key}");
        _effort = effort;
        _budgets = all;
    }

    [GeneratedRegex(@"<think>(.*?)(?:</think>|$)", RegexOptions.Singleline)]
    private static partial Regex Think();

    public string Name => "length";

    public ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        string level = _effort == FromPrompt ? input.Effort ?? "medium" : _effort;
        if (!_budgets.TryGetValue(level, out int budget))
            return ValueTask.FromResult(new RewardResult(0, $"the prompt asked for effort '{level}', which has no budget; known: {string.Join(", ", Effort.Levels)}"));
        int buffer = Math.Max(1, budget / 4);
        var think = Think().Match(input.Completion);
        int length = (think.Success ? think.Groups[1].Value : input.Completion).Length;
        double value = length <= budget ? 0 : -Math.Min(1.0, (double)(length - budget) / buffer);
        return ValueTask.FromResult(new RewardResult(value, string.Create(CultureInfo.InvariantCulture,
            $"{length} reasoning characters against the {level} budget of {budget}{(value < 0 ? $" (+{buffer} buffer)" : "")}")));
    }
}
