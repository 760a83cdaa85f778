using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Curation;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Training.Stages;

/// <summary>Rejection sampling: k samples of each of N training prompts; the verified-correct ones that pass the filters become a dataset.</summary>
public sealed record RejectionSamplingStageSpec(string Name, int Prompts, int Samples, SamplingSpec Sampling, int KeepPerPrompt, bool Dedupe,
    IReadOnlyList<ISampleFilter> Filters, RewardSpec Correctness) : StageSpec(Name, "rejection-sampling", 1)
{
    /// <summary>Where the stage writes its dataset: runs/&lt;job&gt;/datasets/&lt;stage&gt;.jsonl.</summary>
    public static string OutputPath(string runDirectory, string stage) => Path.Combine(runDirectory, "datasets", stage + ".jsonl");
}

/// <summary>
/// DeepSeek-R1's rejection sampling (section 2.3.3): the policy samples k completions of each of N
/// training prompts through the rollout engine; the job's verifier keeps the correct ones; named
/// heuristic filters drop mixed languages, overlong paragraphs, code blocks where none belong and
/// repetition; duplicates of a prompt go; at most keep_per_prompt remain. The result is a JSONL dataset
/// with provenance (<see cref="CuratedRows"/>) that a later SFT stage reads with <c>dataset: stage:NAME</c>.
/// Counts of what was kept and dropped, per filter, go to metrics.jsonl as a "rejection" row.
/// </summary>
public sealed partial class RejectionSamplingStage : IStage
{
    public string Kind => "rejection-sampling";

    public string Describe(StageSpec spec) => spec is RejectionSamplingStageSpec r
        ? $"{r.Samples} samples of each of {r.Prompts} training prompts, kept when {r.Correctness.Name} verifies them" +
          $" and no filter of [{string.Join(", ", r.Filters.Select(f => f.Name))}] objects{(r.Dedupe ? ", duplicates dropped" : "")}, at most {r.KeepPerPrompt} per prompt"
        : "";

    public async Task<int> RunAsync(StageSpec stage, StageContext context, ResumePoint? resume, CancellationToken cancellation)
    {
        var spec = (RejectionSamplingStageSpec)stage;
        long start = context.Time.GetTimestamp();
        var problems = new List<Problem>(spec.Prompts);
        using (var stream = context.TrainStream(rl: true))
            while (problems.Count < spec.Prompts && stream.MoveNext()) problems.Add(stream.Current);
        if (problems.Count < spec.Prompts) context.Observer.Note($"{spec.Name}: the training data has {problems.Count} prompts (task.epochs), not {spec.Prompts}");
        context.Observer.Note($"{spec.Name}: {spec.Samples} samples of each of {problems.Count} prompts");
        long version = await context.Engine.CurrentVersionAsync(context.Policy, cancellation);
        var groups = await RolloutBatches.RunAsync(context.Engine, problems, spec.Samples, spec.Sampling,
            RowRandom.RowSeed(context.Job.Seed, 7_919 + context.StageIndex), version, context.Job.Rewards, cancellation);
        var (rows, metrics) = Curate(spec, groups);
        string path = RejectionSamplingStageSpec.OutputPath(context.RunDirectory, spec.Name);
        CuratedRows.Write(path, rows);
        metrics["rejection/seconds"] = context.Time.GetElapsedTime(start).TotalSeconds;
        context.Log.Write("rejection", spec.Name, 1, context.ElapsedSeconds, metrics);
        var dropped = metrics.Where(kv => kv.Key.StartsWith("rejection/dropped/", StringComparison.Ordinal)).Select(kv => $"{kv.Key["rejection/dropped/".Length..]} {kv.Value:F0}");
        context.Observer.Note($"{spec.Name}: kept {metrics["rejection/kept"]:F0} of {metrics["rejection/correct"]:F0} correct samples ({metrics["rejection/samples"]:F0} sampled); " +
            $"dropped: {string.Join(", ", dropped)}; wrote {path}");
        return 1;
    }

    /// <summary>The rows to keep and the counts: samples, correct, dropped per filter (first filter to object), duplicates, over the per-prompt cap, kept.</summary>
    public static (List<System.Text.Json.Nodes.JsonObject> Rows, Metrics Metrics) Curate(RejectionSamplingStageSpec spec, IReadOnlyList<RolloutGroup> groups)
    {
        var rows = new List<System.Text.Json.Nodes.JsonObject>();
        var dropped = spec.Filters.ToDictionary(f => f.Name, _ => 0, StringComparer.Ordinal);
        int samples = 0, correct = 0, duplicates = 0, overCap = 0, promptsKept = 0;
        foreach (var group in groups)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            int kept = 0;
            for (int j = 0; j < group.Completions.Count; j++)
            {
                samples++;
                if (group.Scores[j].Values.GetValueOrDefault(spec.Correctness.Name) < 1) continue;
                correct++;
                string text = group.Completions[j].Text;
                if (spec.Filters.FirstOrDefault(f => f.Reject(group.Problem, text) is not null) is { } filter) { dropped[filter.Name]++; continue; }
                if (spec.Dedupe && !seen.Add(Whitespace().Replace(text.Trim(), " "))) { duplicates++; continue; }
                if (kept == spec.KeepPerPrompt) { overCap++; continue; }
                rows.Add(CuratedRows.Row(group, j, spec.Name));
                kept++;
            }
            if (kept > 0) promptsKept++;
        }
        var metrics = new Metrics
        {
            ["rejection/prompts"] = groups.Count, ["rejection/samples"] = samples, ["rejection/correct"] = correct,
            ["rejection/kept"] = rows.Count, ["rejection/prompts_kept"] = promptsKept,
            ["rejection/dropped/duplicate"] = duplicates, ["rejection/dropped/over_cap"] = overCap,
        };
        foreach (var (name, count) in dropped) metrics[$"rejection/dropped/{name}"] = count;
        return (rows, metrics);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\s+")]
    private static partial System.Text.RegularExpressions.Regex Whitespace();
}
