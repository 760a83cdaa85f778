using RolloutCluster.Abstractions;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Grains;

/// <summary>Conversions between the training library's records and the wire records of grain calls.</summary>
public static class Wire
{
    public static ProblemWire ToWire(this Problem p) => new(p.Id, p.Question, p.Answer);

    public static Problem FromWire(this ProblemWire p) => new(p.Id, p.Question, p.Answer);

    public static SamplingWire ToWire(this SamplingSpec s) => new(s.Temperature, s.TopP, s.TopK, s.MaxNewTokens);

    public static SamplingSpec FromWire(this SamplingWire s) => new(s.Temperature, s.TopP, s.TopK, s.MaxNewTokens);

    public static RewardWire ToWire(this RewardSpec r) => new(r.Name, r.Weight, r.Options ?? new Dictionary<string, string>());

    public static RewardSpec FromWire(this RewardWire r) => new(r.Name, r.Weight, r.Options);

    public static ScoreWire ToWire(this RewardBreakdown b) => new(b.Total, b.Values, b.Reasons);

    public static ScoredGroupWire ToWire(this ScoredGroup g) => new(g.Group.Problem.ToWire(), g.Group.Prompt,
        g.Group.Completions.Select((c, i) => new ScoredCompletionWire(c.TokenIds, c.LogProbs, c.Text, c.Finish == FinishReason.Length, g.Rewards[i],
            g.Scores[i].Values, g.Scores[i].Reasons, g.Scores[i].Total)).ToList(),
        g.Group.WeightsVersion, g.Group.Generator);

    public static ScoredGroup FromWire(this ScoredGroupWire g) => new(
        new SampledGroup(g.Problem.FromWire(), g.Prompt,
            g.Completions.Select(c => new Completion(c.TokenIds, c.LogProbs, c.Text, c.Truncated ? FinishReason.Length : FinishReason.Stop)).ToList(),
            g.WeightsVersion, g.Generator),
        g.Completions.Select(c => new RewardBreakdown(c.RewardTotal, c.Values, c.Reasons)).ToList(),
        g.Completions.Select(c => c.Reward).ToList());

    public static GroupCounts ToWire(this GroupAccounting a) => new(a.Dispatched, a.Trained, a.DroppedStale, a.DroppedNoSignal, a.DroppedSurplus,
        a.DroppedUnused, a.Failed, a.InFlight, new Dictionary<string, long>(a.BySource));
}
