using TorchSharp;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Training.Stages;

/// <summary>Held-out evaluation as a stage of its own: a dataset (the task's test set when none is named), k samples per problem.</summary>
/// <param name="RewardModel">"stage:NAME" (an earlier reward-model stage's) or a directory: adds best-of-n and reward-weighted majority by its scores.</param>
/// <param name="RefineRounds">Rounds of self-refinement: each wrong sample retried with the verifier's feedback (<see cref="SelfRefinement"/>).</param>
/// <param name="Efforts">Reasoning-effort levels to evaluate the problems at again, each prompt asking for the level (<see cref="Rewards.Effort"/>).</param>
public sealed record EvalStageSpec(string Name, string? Dataset, int Samples, float Temperature, int MaxNewTokens, string? RewardModel = null, int RefineRounds = 0,
    IReadOnlyList<string>? Efforts = null) : StageSpec(Name, "eval", 1);

/// <summary>
/// Evaluates the policy as the earlier stages left it: pass@1, pass@k and maj@k through the rollout
/// engine (spread over the cluster's generators), logged to metrics.jsonl as an "eval" row.
/// </summary>
public sealed class EvalStage : IStage
{
    public string Kind => "eval";

    public StageSpec Parse(SpecMap s, string name, JobParseContext job)
    {
        var dataset = s.OptionalString("dataset");
        if (dataset is not null) job.CheckDataset(s, "dataset", dataset);
        return new EvalStageSpec(name, dataset, s.Int("samples", 1, min: 1, max: 1024), (float)s.Double("temperature", 1.0, min: 0), s.Int("max_new_tokens", min: 1, max: 100_000),
            s.OptionalString("reward_model") is { } rm ? RewardModelReference.Parse(s, "reward_model", rm, job) : null,
            s.Int("refine_rounds", 0, min: 0, max: 16), EffortLevels.Parse(s));
    }

    public string Describe(StageSpec spec) => spec is EvalStageSpec e
        ? $"{e.Samples} samples of each problem of {e.Dataset ?? "the task's test set"} at T={e.Temperature}, up to {e.MaxNewTokens} new tokens" +
          (e.RewardModel is null ? "" : $"; best-of-n and weighted majority by {e.RewardModel}") +
          (e.RefineRounds == 0 ? "" : $"; {e.RefineRounds} rounds of self-refinement with the verifier's feedback") +
          (e.Efforts is null ? "" : $"; again at effort {string.Join(", ", e.Efforts)}") : "";

    public async Task<int> RunAsync(StageSpec stage, StageContext context, ResumePoint? resume, CancellationToken cancellation)
    {
        var spec = (EvalStageSpec)stage;
        var problems = EvalProblems(context.Job, context.Data, spec.Dataset);
        context.Observer.EvaluationStarted(spec.Name, problems.Count, spec.Samples);
        long version = await context.Engine.CurrentVersionAsync(context.Policy, cancellation);
        using var rewardModel = spec.RewardModel is null ? null
            : RolloutCluster.Model.Reward.RewardModel.Load(RewardModelReference.Directory(spec.RewardModel, context.RunDirectory)).Model;
        rewardModel?.to(context.Policy.Model.Device);
        long seed = RowRandom.RowSeed(context.Job.Seed, 104729);
        var correctness = Evaluator.Correctness(context.Job.Rewards);
        var result = await Evaluator.EvaluateAsync(context.Engine, version, problems, spec.Samples, spec.Temperature, spec.MaxNewTokens, seed, correctness, cancellation,
            rewardModel is null ? null : groups => RewardModelScoring.ScoreGroups(rewardModel, groups, context.Policy.Tokenizer), spec.RefineRounds);
        var metrics = new Dictionary<string, double>(result.ToMetrics("eval"));
        foreach (var level in spec.Efforts ?? [])
        {
            // The same problems and seeds, each prompt asking for this level: only the request differs.
            var at = await Evaluator.EvaluateAsync(context.Engine, version, [.. problems.Select(p => p with { Effort = level })], spec.Samples, spec.Temperature,
                spec.MaxNewTokens, seed, correctness, cancellation);
            (metrics[$"eval/effort/{level}/pass@1"], metrics[$"eval/effort/{level}/length_mean"], metrics[$"eval/effort/{level}/format"]) = (at.PassAt1, at.MeanLength, at.FormatRate);
            context.Observer.Note(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{spec.Name}: effort {level}: pass@1 {at.PassAt1:P1}, mean length {at.MeanLength:F1} tokens, format {at.FormatRate:P0}"));
        }
        context.Log.Write("eval", spec.Name, 1, context.ElapsedSeconds, metrics);
        context.Observer.EvaluationCompleted(spec.Name, result);
        return 1;
    }

    /// <summary>The problems of an evaluation: the task's test set, a built-in reference, or a file read with the task's format and fields.</summary>
    public static IReadOnlyList<Problem> EvalProblems(JobSpec job, TaskData data, string? dataset)
    {
        if (dataset is null) return data.Test.Count > 0 ? data.Test
            : throw new Data.DatasetException("the task has no test set: set task.test (a file or holdout:N), or name a dataset for the evaluation");
        if (BuiltinDataset.IsBuiltin(dataset)) return BuiltinDataset.Resolve(dataset, job.Seed, job.Task.Arithmetic, job.Task.TestSize);
        return new Data.Datasets.DatasetSource(dataset, job.Task.Format, job.Task.Fields, job.Task.SkipBadRows).Load().Problems;
    }
}
