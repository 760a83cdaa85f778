using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using TorchSharp;

namespace RolloutCluster.Training.Runtime;

/// <summary>What a finished job produced.</summary>
public sealed record JobSummary(string RunDirectory, string FinalCheckpoint, double Seconds, IReadOnlyList<(string Stage, int Steps)> Stages,
    IReadOnlyList<(string Label, EvalResult Result)> Evaluations);

/// <summary>
/// Runs a job's stages in this process: builds or loads the policy, runs each stage (SFT, GRPO),
/// evaluates where the job asks, writes runs/&lt;job&gt;/{metrics.jsonl, checkpoints/, plot.png}.
/// </summary>
/// <param name="rolloutSource">Where GRPO rollouts come from; null samples in this process (<see cref="LocalRolloutSource"/>).</param>
/// <param name="onContext">Receives the stage context once it exists (the learner grain reads its accounting).</param>
public sealed class JobRunner(JobSpec spec, string runDirectory, IJobObserver observer, TimeProvider time,
    Func<Policy, GrpoStageSpec, RewardSet, IRolloutSource>? rolloutSource = null, Action<StageContext>? onContext = null)
{
    long _start;

    public async Task<JobSummary> RunAsync(CancellationToken cancellation = default)
    {
        long jobStart = _start = time.GetTimestamp();
        Prepare();
        torch.set_num_threads(spec.Model.Threads);
        var (device, note) = TorchDevices.Select(spec.Model.Device);
        if (note is not null) observer.Note(note);
        using var policy = CreatePolicy(device);
        var task = new ArithmeticTask(spec.Task.Arithmetic, spec.Seed, spec.Task.TestSize);
        await using var rewardSetup = await RewardSetup.CreateAsync(spec.Rewards, new RolloutCluster.Rewards.Sandbox.SandboxOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancellation);
        var rewards = rewardSetup.Set;
        using var log = new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl"));
        string lastCheckpoint = "";
        string Save(string stage, int step)
        {
            var dir = Path.Combine(runDirectory, "checkpoints", step < 0 ? stage : $"{stage}-step{step}");
            Checkpoint.Save(dir, policy.Model, policy.Tokenizer, DTypes.FromConfigName(spec.Checkpoint.DType));
            new RunInfo(spec.Name, stage, Math.Max(step, 0), spec.Task.Template, spec.Seed, spec.Task.Arithmetic.MaxOperand,
                spec.Task.Arithmetic.MaxFactor, spec.Task.Arithmetic.Operators, spec.Task.TestSize).Save(dir);
            lastCheckpoint = dir;
            return dir;
        }
        var evaluations = new List<(string, EvalResult)>();
        var context = new StageContext(observer, log, time, jobStart, Save,
            async (stage, step, c) => await EvaluateAsync(policy, $"{stage} step {step}", stage, step, log, c), spec.Evaluation?.EverySteps ?? 0);
        onContext?.Invoke(context);
        var stages = new List<(string, int)>();

        if (spec.Evaluation?.After.Contains("start") == true) evaluations.Add(await EvaluateAsync(policy, "start", "start", 0, log, cancellation));
        for (int i = 0; i < spec.Stages.Count; i++)
        {
            var stage = spec.Stages[i];
            context.StageIndex = i;
            observer.StageStarted(stage.Name, stage.Kind, stage.Steps);
            int done = stage switch
            {
                SftStageSpec sft => SftStage.Run(policy, sft, task.Train(stream: 2 * i).GetEnumerator(), spec.Checkpoint.EverySteps, context, cancellation),
                GrpoStageSpec grpo => await RunGrpoAsync(policy, grpo, rewards, task.Train(stream: 2 * i + 1).GetEnumerator(),
                    RowRandom.RowSeed(spec.Seed, 7919 + i), context, cancellation),
                _ => throw new InvalidOperationException($"no runner for stage kind {stage.Kind}"),
            };
            Save(stage.Name, -1);
            stages.Add((stage.Name, done));
            observer.StageCompleted(stage.Name, done, lastCheckpoint);
            if (spec.Evaluation?.After.Contains(stage.Name) == true) evaluations.Add(await EvaluateAsync(policy, stage.Name, stage.Name, done, log, cancellation));
        }
        RunPlot.Write(log.Path, Path.Combine(runDirectory, "plot.png"), spec.Name);
        return new JobSummary(runDirectory, lastCheckpoint, time.GetElapsedTime(jobStart).TotalSeconds, stages, evaluations);
    }

    async Task<int> RunGrpoAsync(Policy policy, GrpoStageSpec grpo, RewardSet rewards, IEnumerator<Problem> prompts, long seed, StageContext context, CancellationToken cancellation)
    {
        await using var source = rolloutSource?.Invoke(policy, grpo, rewards) ?? new LocalRolloutSource(policy, rewards, grpo.Overlong);
        // Sampling that runs ahead of the learner must not share the cores' threads with it: with
        // max_staleness > 0 the two halves of the work each get half the threads (OpenMP teams that
        // oversubscribe the cores spin and slow everything down many times over).
        int threads = grpo.MaxStaleness > 0 ? Math.Max(1, spec.Model.Threads / 2) : spec.Model.Threads;
        torch.set_num_threads(threads);
        try
        {
            return await GrpoStage.RunAsync(policy, grpo, source, prompts, seed, spec.Checkpoint.EverySteps, context, cancellation);
        }
        finally
        {
            torch.set_num_threads(spec.Model.Threads);
        }
    }

    void Prepare()
    {
        // A rerun starts clean: metrics and checkpoints of an earlier run with this name would mix with ours.
        if (Directory.Exists(runDirectory))
        {
            foreach (var old in new[] { "metrics.jsonl", "plot.png" }) File.Delete(Path.Combine(runDirectory, old));
            if (Directory.Exists(Path.Combine(runDirectory, "checkpoints"))) Directory.Delete(Path.Combine(runDirectory, "checkpoints"), recursive: true);
        }
        Directory.CreateDirectory(runDirectory);
        if (File.Exists(spec.SourceFile)) File.Copy(spec.SourceFile, Path.Combine(runDirectory, "job" + Path.GetExtension(spec.SourceFile)), overwrite: true);
    }

    Policy CreatePolicy(torch.Device device)
    {
        var template = PromptTemplate.Get(spec.Task.Template);
        if (spec.Model.Checkpoint is { } path)
        {
            var loaded = Checkpoint.Load(path, device);
            return new Policy(loaded.Model, loaded.Tokenizer, template);
        }
        var tokenizer = new ByteTokenizer();
        var model = new CausalLm(ModelPresets.Get(spec.Model.Preset!, tokenizer.VocabSize));
        model.InitializeWeights(spec.Model.InitSeed);
        model.to(device);
        return new Policy(model, tokenizer, template);
    }

    /// <summary>Evaluates on the job's held-out set; the row in metrics.jsonl carries the stage and step it follows.</summary>
    async Task<(string, EvalResult)> EvaluateAsync(Policy policy, string label, string stage, int step, MetricsLog log, CancellationToken cancellation)
    {
        var eval = spec.Evaluation!;
        IReadOnlyList<Problem> problems;
        if (BuiltinDataset.IsBuiltin(eval.Dataset)) problems = BuiltinDataset.Resolve(eval.Dataset, spec.Seed, spec.Task.Arithmetic, spec.Task.TestSize);
        else
        {
            var rows = JsonlReader.Read(eval.Dataset, DatasetFormats.GenericMath, eval.SkipBadLines);
            if (rows.Skipped > 0) observer.Note($"{eval.Dataset}: skipped {rows.Skipped} bad line(s); first: {rows.Errors[0]}");
            problems = rows.Rows.Select(r => r.Item).ToList();
        }
        observer.EvaluationStarted(label, problems.Count, eval.Samples);
        // Correctness is judged by the job's own answer reward (accuracy or math), math by default.
        var correctness = RewardRegistry.Create(spec.Rewards.Select(r => r.Name).FirstOrDefault(n => n is "accuracy" or "math") ?? "math");
        var result = await Evaluator.EvaluateAsync(policy, problems, eval.Samples, eval.Temperature, eval.MaxNewTokens, RowRandom.RowSeed(spec.Seed, 104729), correctness, cancellation);
        log.Write("eval", stage, step, time.GetElapsedTime(_start).TotalSeconds, result.ToMetrics("eval"));
        observer.EvaluationCompleted(label, result);
        return (label, result);
    }
}
