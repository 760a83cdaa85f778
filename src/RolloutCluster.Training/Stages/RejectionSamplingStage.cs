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
/// <param name="Teacher">A checkpoint that samples instead of the policy (distillation: a later sft stage trains the policy on its solutions); null: the policy.</param>
/// <param name="Verify">Keep only samples the verifier accepts (false keeps every sample that passes the filters: distillation of unverifiable data).</param>
public sealed record RejectionSamplingStageSpec(string Name, int Prompts, int Samples, SamplingSpec Sampling, int KeepPerPrompt, bool Dedupe,
    IReadOnlyList<ISampleFilter> Filters, RewardSpec? Correctness, string? Teacher = null, bool Verify = true) : StageSpec(Name, "rejection-sampling", 1)
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
        ? $"{r.Samples} samples of each of {r.Prompts} training prompts{(r.Teacher is null ? "" : $" by the teacher {r.Teacher}")}, kept when " +
          (r.Verify ? $"{r.Correctness!.Name} verifies them" : "unverified") +
          $" and no filter of [{string.Join(", ", r.Filters.Select(f => f.Name))}] objects{(r.Dedupe ? ", duplicates dropped" : "")}, at most {r.KeepPerPrompt} per prompt"
        : "";

    public async Task<int> RunAsync(StageSpec stage, StageContext context, ResumePoint? resume, CancellationToken cancellation)
    {
        var spec = (RejectionSamplingStageSpec)stage;
        long start = context.Time.GetTimestamp();
        var problems = context.TrainProblems(spec.Prompts);
        if (problems.Count < spec.Prompts) context.Observer.Note($"{spec.Name}: the training data has {problems.Count} prompts (task.epochs), not {spec.Prompts}");
        context.Observer.Note($"{spec.Name}: {spec.Samples} samples of each of {problems.Count} prompts");
        var groups = await SampleAsync(spec, context, problems, RowRandom.RowSeed(context.Job.Seed, 7_919 + context.StageIndex), cancellation);
        var (rows, metrics) = Curate(spec, groups);
        string path = RejectionSamplingStageSpec.OutputPath(context.RunDirectory, spec.Name);
        CuratedRows.Write(path, rows);
        metrics["rejection/seconds"] = context.Time.GetElapsedTime(start).TotalSeconds;
        context.Log.Write("rejection", spec.Name, 1, context.ElapsedSeconds, metrics);
        var dropped = metrics.Where(kv => kv.Key.StartsWith("rejection/dropped/", StringComparison.Ordinal)).Select(kv => $"{kv.Key["rejection/dropped/".Length..]} {kv.Value:F0}");
        context.Observer.Note($"{spec.Name}: kept {metrics["rejection/kept"]:F0} samples ({metrics["rejection/samples"]:F0} sampled, {metrics["rejection/correct"]:F0} correct); " +
            $"dropped: {string.Join(", ", dropped)}; wrote {path}");
        return 1;
    }

    /// <summary>
    /// The samples: the policy's through the job's engine, or a teacher's through an engine of its own in
    /// this process (the teacher is not published to the cluster's generators). Samples are text: a teacher
    /// with another tokenizer is fine, the student tokenizes the solutions with its own.
    /// </summary>
    static async Task<IReadOnlyList<RolloutGroup>> SampleAsync(RejectionSamplingStageSpec spec, StageContext context, IReadOnlyList<Problem> problems, long seed,
        CancellationToken cancellation)
    {
        if (spec.Teacher is null)
        {
            long version = await context.Engine.CurrentVersionAsync(context.Policy, cancellation);
            return await RolloutBatches.RunAsync(context.Engine, problems, spec.Samples, spec.Sampling, seed, version, context.Job.Rewards, cancellation);
        }
        using var teacher = context.LoadPolicy(spec.Teacher);
        context.Observer.Note($"{spec.Name}: teacher {spec.Teacher} ({teacher.Model.parameters().Sum(p => p.numel()):N0} parameters) samples in this process");
        await using var engine = new LocalRolloutEngine(teacher, context.Rewards);
        long teacherVersion = await engine.CurrentVersionAsync(teacher, cancellation);
        return await RolloutBatches.RunAsync(engine, problems, spec.Samples, spec.Sampling, seed, teacherVersion, context.Job.Rewards, cancellation);
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
                bool right = spec.Correctness is { } verifier && group.Scores[j].Values.GetValueOrDefault(verifier.Name) >= 1;
                if (right) correct++;
                if (spec.Verify && !right) continue;
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
