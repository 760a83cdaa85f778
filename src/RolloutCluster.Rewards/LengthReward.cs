using System.Globalization;
using System.Text.RegularExpressions;

namespace RolloutCluster.Rewards;

/// <summary>
/// A reasoning-length budget by effort level, as a soft overlong penalty (DAPO-style): 0 while the
/// reasoning (the text inside &lt;think&gt;, else the whole completion) is within the level's budget of
/// characters, then falling linearly to -1 over a buffer of a quarter of the budget. Added to an
/// accuracy reward it trades correctness against length; the budgets are options.
/// </summary>
public sealed partial class LengthReward : IRewardFunction
{
    public static readonly IReadOnlyDictionary<string, int> DefaultBudgets = new Dictionary<string, int>
    {
        ["low"] = 512,
        ["medium"] = 2048,
        ["high"] = 8192,
    };

    readonly string _effort;
    readonly int _budget;
    readonly int _buffer;

    public LengthReward(string effort = "medium", int? budget = null)
    {
        if (budget is null && !DefaultBudgets.ContainsKey(effort))
            throw new ArgumentException($"unknown effort '{effort}'; known: {string.Join(", ", DefaultBudgets.Keys)}");
        _effort = effort;
        _budget = budget ?? DefaultBudgets[effort];
        if (_budget <= 0) throw new ArgumentException($"budget must be positive, found {_budget}");
        _buffer = Math.Max(1, _budget / 4);
    }

    [GeneratedRegex(@"<think>(.*?)(?:</think>|$)", RegexOptions.Singleline)]
    private static partial Regex Think();

    public string Name => "length";

    public ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        var think = Think().Match(input.Completion);
        int length = (think.Success ? think.Groups[1].Value : input.Completion).Length;
        double value = length <= _budget ? 0 : -Math.Min(1.0, (double)(length - _budget) / _buffer);
        return ValueTask.FromResult(new RewardResult(value, string.Create(CultureInfo.InvariantCulture,
            $"{length} reasoning characters against the {_effort} budget of {_budget}{(value < 0 ? $" (+{_buffer} buffer)" : "")}")));
    }
}
