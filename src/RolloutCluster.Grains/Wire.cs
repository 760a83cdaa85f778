using RolloutCluster.Abstractions;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Grains;

/// <summary>Conversions between the training library's records and the wire records of grain calls.</summary>
public static class Wire
{
    public static ProblemWire ToWire(this Problem p) => new(p.Id, p.Question, p.Answer, p.Tests, p.EntryPoint, p.TestCases, p.Effort);

    public static Problem FromWire(this ProblemWire p) => new(p.Id, p.Question, p.Answer) { Tests = p.Tests, EntryPoint = p.EntryPoint, TestCases = p.TestCases, Effort = p.Effort };

    public static SamplingWire ToWire(this SamplingSpec s) => new(s.Temperature, s.TopP, s.TopK, s.MaxNewTokens, s.MaxBatchTokens);

    public static SamplingSpec FromWire(this SamplingWire s) => new(s.Temperature, s.TopP, s.TopK, s.MaxNewTokens, s.MaxBatchTokens);

    public static RewardWire ToWire(this RewardSpec r) => new(r.Name, r.Weight, r.Options ?? new Dictionary<string, string>());

    public static RewardSpec FromWire(this RewardWire r) => new(r.Name, r.Weight, r.Options);

    public static ScoreWire ToWire(this RewardBreakdown b) => new(b.Total, b.Values, b.Reasons);

    public static RewardInput FromWire(this ScoreItem item) => new(item.Completion, item.Answer, item.Prompt, item.Tests, item.EntryPoint, item.TestCases, item.Context, item.Effort);

    public static ScoreItem ToWire(this RewardInput i) => new(i.Completion, i.Answer, i.Prompt, i.Tests, i.EntryPoint, i.TestCases, i.Context, i.Effort);

    public static RolloutGroup FromWire(this ScoredGroupWire g) => new(g.Problem.FromWire(), g.Prompt,
        g.Completions.Select(c => new Completion(c.TokenIds, c.LogProbs, c.Text, c.Truncated ? FinishReason.Length : FinishReason.Stop)).ToList(),
        g.Completions.Select(c => new RewardBreakdown(c.RewardTotal, c.Values, c.Reasons)).ToList(),
        g.WeightsVersion, g.Generator);

    /// <summary>The job a submission describes, with its overrides applied and its paths resolved as the submitter meant them.</summary>
    public static JobSpec Parse(this JobSubmission s) => JobFile.Parse(s.JobText, s.FileName, s.Overrides, s.BaseDirectory);

    public static GroupCounts ToWire(this GroupAccounting a) => new(a.Dispatched, a.Trained, a.DroppedStale, a.DroppedNoSignal, a.DroppedSurplus,
        a.DroppedUnused, a.Failed, a.InFlight, new Dictionary<string, long>(a.BySource));
}
