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
/// <param name="resume">A resumable checkpoint of this job to continue from (<see cref="ResumePoint.Latest"/>); null starts afresh.</param>
public sealed class JobRunner(JobSpec spec, string runDirectory, IJobObserver observer, TimeProvider time,
    Func<Policy, GrpoStageSpec, RewardSet, IRolloutSource>? rolloutSource = null, Action<StageContext>? onContext = null, ResumePoint? resume = null)
{
    long _start;
    double _offset;

    /// <summary>
    /// Runs the job on the process's torch thread (<see cref="TorchThread"/>), which every
    /// continuation returns to: the policy's torch work, and synchronous in-process sampling, stay on
    /// one OS thread.
    /// </summary>
    public Task<JobSummary> RunAsync(CancellationToken cancellation = default) => TorchThread.Cpu.RunAsync(() => RunHereAsync(cancellation));

    async Task<JobSummary> RunHereAsync(CancellationToken cancellation)
    {
        long jobStart = _start = time.GetTimestamp();
        if (resume is not null && resume.State.StageIndex >= spec.Stages.Count)
            throw new InvalidOperationException($"job {spec.Name} has already completed (checkpoint {resume.Directory}); nothing to resume");
        long discarded = 0;
        if (resume is null) Prepare();
        else (_offset, discarded) = JobResume.Prepare(spec, runDirectory, resume);
        torch.set_num_threads(spec.Model.Threads);
        var (device, note) = TorchDevices.Select(spec.Model.Device);
        if (note is not null) observer.Note(note);
        using var policy = resume is null ? CreatePolicy(device) : LoadPolicy(resume.Directory, device);
        var task = new ArithmeticTask(spec.Task.Arithmetic, spec.Seed, spec.Task.TestSize);
        await using var rewardSetup = await RewardSetup.CreateAsync(spec.Rewards, new RolloutCluster.Rewards.Sandbox.SandboxOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancellation);
        var rewards = rewardSetup.Set;
        using var log = new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl"));
        string lastCheckpoint = "";
        string Save(string stage, int step, bool exact)
        {
            var dir = Path.Combine(runDirectory, "checkpoints", step < 0 ? stage : $"{stage}-step{step}");
            // Stage-final checkpoints are also where the next stage resumes from: kept exact as well.
            Checkpoint.Save(dir, policy.Model, policy.Tokenizer, exact || step < 0 ? null : DTypes.FromConfigName(spec.Checkpoint.DType));
            new RunInfo(spec.Name, stage, Math.Max(step, 0), spec.Task.Template, spec.Seed, spec.Task.Arithmetic.MaxOperand,
                spec.Task.Arithmetic.MaxFactor, spec.Task.Arithmetic.Operators, spec.Task.TestSize).Save(dir);
            lastCheckpoint = dir;
            return dir;
        }
        var evaluations = new List<(string, EvalResult)>();
        var context = new StageContext(observer, log, time, jobStart, Save,
            async (stage, step, c) => await EvaluateAsync(policy, $"{stage} step {step}", stage, step, log, c), spec.Evaluation?.EverySteps ?? 0,
            elapsedOffset: _offset);
        onContext?.Invoke(context);
        var stages = new List<(string, int)>();

        if (resume is null && spec.Evaluation?.After.Contains("start") == true) evaluations.Add(await EvaluateAsync(policy, "start", "start", 0, log, cancellation));
        for (int i = resume?.State.StageIndex ?? 0; i < spec.Stages.Count; i++)
        {
            var stage = spec.Stages[i];
            context.StageIndex = i;
            // A stage-final checkpoint resumes the next stage at its first step: nothing of that stage to restore.
            var from = resume is not null && i == resume.State.StageIndex && resume.State.StepsDone > 0 ? resume : null;
            if (from is not null) observer.Note(JobResume.Describe(from, discarded));
            observer.StageStarted(stage.Name, stage.Kind, stage.Steps);
            int done = stage switch
            {
                SftStageSpec sft => SftStage.Run(policy, sft, task.Train(stream: 2 * i).GetEnumerator(), spec.Checkpoint.EverySteps, context, cancellation, from),
                GrpoStageSpec grpo => await RunGrpoAsync(policy, grpo, rewards, task.Train(stream: 2 * i + 1).GetEnumerator(),
                    RowRandom.RowSeed(spec.Seed, 7919 + i), context, i, from is null ? null : JobResume.WithDiscarded(from, discarded), cancellation),
                _ => throw new InvalidOperationException($"no runner for stage kind {stage.Kind}"),
            };
            var final = Save(stage.Name, -1, exact: true);
            stages.Add((stage.Name, done));
            observer.StageCompleted(stage.Name, done, lastCheckpoint);
            if (spec.Evaluation?.After.Contains(stage.Name) == true) evaluations.Add(await EvaluateAsync(policy, stage.Name, stage.Name, done, log, cancellation));
            // Only now, with its evaluation logged, is the stage behind us: a resume starts the next one.
            new ResumeState(i + 1, i + 1 < spec.Stages.Count ? spec.Stages[i + 1].Name : "", 0, 0, 0, "stage completed").Save(final);
        }
        RunPlot.Write(log.Path, Path.Combine(runDirectory, "plot.png"), spec.Name);
        return new JobSummary(runDirectory, lastCheckpoint, time.GetElapsedTime(jobStart).TotalSeconds, stages, evaluations);
    }

    async Task<int> RunGrpoAsync(Policy policy, GrpoStageSpec grpo, RewardSet rewards, IEnumerator<Problem> prompts, long seed, StageContext context,
        int stageIndex, ResumePoint? from, CancellationToken cancellation)
    {
        // The KL reference is the stage's starting weights: on resume, the checkpoint the stage began from.
        using var reference = from is not null && grpo.KlCoefficient > 0 ? ReferenceFor(stageIndex, policy.Model.Device) : null;
        await using var source = rolloutSource?.Invoke(policy, grpo, rewards) ?? new LocalRolloutSource(policy, rewards, grpo.Overlong, overlap: grpo.MaxStaleness > 0);
        // Sampling that runs ahead of the learner must not share the cores' threads with it: with
        // max_staleness > 0 the two halves of the work each get half the threads (OpenMP teams that
        // oversubscribe the cores spin and slow everything down many times over).
        int threads = grpo.MaxStaleness > 0 ? Math.Max(1, spec.Model.Threads / 2) : spec.Model.Threads;
        torch.set_num_threads(threads);
        try
        {
            return await GrpoStage.RunAsync(policy, grpo, source, prompts, seed, spec.Checkpoint.EverySteps, context, cancellation, from, reference);
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

    Policy LoadPolicy(string dir, torch.Device device)
    {
        var loaded = Checkpoint.Load(dir, device);
        return new Policy(loaded.Model, loaded.Tokenizer, PromptTemplate.Get(spec.Task.Template));
    }

    CausalLm ReferenceFor(int stageIndex, torch.Device device)
    {
        using var start = stageIndex > 0 ? LoadPolicy(Path.Combine(runDirectory, "checkpoints", spec.Stages[stageIndex - 1].Name), device) : CreatePolicy(device);
        return GrpoStage.FrozenCopy(start.Model);
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
        log.Write("eval", stage, step, _offset + time.GetElapsedTime(_start).TotalSeconds, result.ToMetrics("eval"));
        observer.EvaluationCompleted(label, result);
        return (label, result);
    }
}
