using Microsoft.Extensions.Logging.Abstractions;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Sandbox;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;
using TorchSharp;

namespace RolloutCluster.Training.Runtime;

/// <summary>What a finished job produced.</summary>
public sealed record JobSummary(string RunDirectory, string FinalCheckpoint, double Seconds, IReadOnlyList<(string Stage, int Steps)> Stages,
    IReadOnlyList<(string Label, EvalResult Result)> Evaluations);

/// <summary>
/// Runs a job: loads its data, builds or loads the policy, runs each stage by its kind
/// (<see cref="StageKinds"/>) against one rollout engine, evaluates where the job asks, and writes
/// runs/&lt;job&gt;/{metrics.jsonl, checkpoints/, plot.png}.
/// </summary>
/// <param name="engine">The rollout engine for the job's policy; null samples in this process (<see cref="LocalRolloutEngine"/>).</param>
/// <param name="resume">A resumable checkpoint of this job to continue from (<see cref="ResumePoint.Latest"/>); null starts afresh.</param>
public sealed class JobRunner(JobSpec spec, string runDirectory, IJobObserver observer, TimeProvider time,
    Func<Policy, IRolloutEngine>? engine = null, ResumePoint? resume = null)
{
    /// <summary>
    /// Runs the job on the process's torch thread (<see cref="TorchThread"/>), which every
    /// continuation returns to: the policy's torch work, and synchronous in-process sampling, stay on
    /// one OS thread.
    /// </summary>
    public Task<JobSummary> RunAsync(CancellationToken cancellation = default) => TorchThread.Cpu.RunAsync(() => RunHereAsync(cancellation));

    async Task<JobSummary> RunHereAsync(CancellationToken cancellation)
    {
        long jobStart = time.GetTimestamp();
        if (resume is not null && resume.State.StageIndex >= spec.Stages.Count)
            throw new InvalidOperationException($"job {spec.Name} has already completed (checkpoint {resume.Directory}); nothing to resume");
        double offset = 0;
        long discarded = 0;
        if (resume is null) Prepare();
        else (offset, discarded) = JobResume.Prepare(spec, runDirectory, resume);
        torch.set_num_threads(spec.Model.Threads);
        var (device, note) = TorchDevices.Select(spec.Model.Device);
        if (note is not null) observer.Note(note);
        using var policy = resume is null ? CreatePolicy(device) : ResumePolicy(resume.Directory, device);
        policy.Model.ActivationCheckpointing = spec.Model.ActivationCheckpointing;
        if (policy.Model.parameters().Sum(p => p.NumberOfElements * p.ElementSize) > Model.HeapTuning.LargeModelBytes) Model.HeapTuning.UseMmapForLargeBlocks();
        if (spec.Model.SampleDType is { } sampleDType) policy.SampleDType = DTypes.FromConfigName(sampleDType)!.Value;
        var data = LoadData(policy);
        // In process, rewards are built here (the cluster's verifiers build their own with the silo's sandbox settings).
        using var rewardModels = new RewardModelScorers(policy.Model.Device.ToString());
        await using var rewards = new RewardSets(new SandboxOptions(), NullLogger.Instance, rewardModels);
        await using var rollouts = engine?.Invoke(policy) ?? new LocalRolloutEngine(policy, rewards);
        using var log = new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl"));
        string lastCheckpoint = "";
        var evaluations = new List<(string, EvalResult)>();
        IReadOnlyList<Problem>? evalProblems = null;
        var memory = new MemoryGuard(spec.Name, spec.MemoryLimitGb);
        var context = new StageContext
        {
            Job = spec,
            Policy = policy,
            Data = data,
            Engine = rollouts,
            Rewards = rewards,
            Observer = observer,
            Log = log,
            Time = time,
            JobStart = jobStart,
            RunDirectory = runDirectory,
            Memory = memory,
            ElapsedOffset = offset,
            Checkpoint = (stage, step, exact) => lastCheckpoint = Save(policy, stage, step, exact),
            Evaluate = async (stage, step, c) => evaluations.Add(await EvaluateAsync($"{stage} step {step}", stage, step, c)),
            LoadPolicy = dir => LoadPolicy(dir, device),
            StartingPolicy = i => i > 0 ? LoadPolicy(Path.Combine(runDirectory, "checkpoints", spec.Stages[i - 1].Name), device) : CreatePolicy(device),
        };
        var stages = new List<(string, int)>();

        async Task<(string, EvalResult)> EvaluateAsync(string label, string stage, int step, CancellationToken c)
        {
            var eval = spec.Evaluation!;
            // Resolved once: a dataset file is read (or the built-in split drawn) at the first evaluation only.
            var problems = evalProblems ??= EvalStage.EvalProblems(spec, data, eval.Dataset);
            observer.EvaluationStarted(label, problems.Count, eval.Samples);
            long version = await rollouts.CurrentVersionAsync(policy, c);
            memory.Check($"evaluation {label}");
            var result = await Evaluator.EvaluateAsync(rollouts, version, problems, eval.Samples, eval.Temperature, eval.MaxNewTokens,
                RowRandom.RowSeed(spec.Seed, 104729), Evaluator.Correctness(spec.Rewards), c);
            log.Write("eval", stage, step, offset + time.GetElapsedTime(jobStart).TotalSeconds, result.ToMetrics("eval"));
            observer.EvaluationCompleted(label, result);
            return (label, result);
        }

        if (resume is null && spec.Evaluation?.After.Contains("start") == true) evaluations.Add(await EvaluateAsync("start", "start", 0, cancellation));
        for (int i = resume?.State.StageIndex ?? 0; i < spec.Stages.Count; i++)
        {
            var stage = spec.Stages[i];
            context.StageIndex = i;
            // A stage-final checkpoint resumes the next stage at its first step: nothing of that stage to restore.
            var from = resume is not null && i == resume.State.StageIndex && resume.State.StepsDone > 0 ? JobResume.WithDiscarded(resume, discarded) : null;
            if (from is not null) observer.Note(JobResume.Describe(from, discarded));
            observer.StageStarted(stage.Name, stage.Kind, stage.Steps);
            int done = await StageKinds.Get(stage.Kind).RunAsync(stage, context, from, cancellation);
            var final = Save(policy, stage.Name, -1, exact: true);
            lastCheckpoint = final;
            stages.Add((stage.Name, done));
            observer.StageCompleted(stage.Name, done, lastCheckpoint);
            if (spec.Evaluation?.After.Contains(stage.Name) == true) evaluations.Add(await EvaluateAsync(stage.Name, stage.Name, done, cancellation));
            // Only now, with its evaluation logged, is the stage behind us: a resume starts the next one.
            new ResumeState(i + 1, i + 1 < spec.Stages.Count ? spec.Stages[i + 1].Name : "", 0, 0, 0, "stage completed").Save(final);
        }
        RunPlot.Write(log.Path, Path.Combine(runDirectory, "plot.png"), spec.Name);
        return new JobSummary(runDirectory, lastCheckpoint, time.GetElapsedTime(jobStart).TotalSeconds, stages, evaluations);
    }

    TaskData LoadData(Policy policy)
    {
        var data = FitToModel(spec, TaskData.Load(spec.Task.ToSource(), spec.Seed), p => policy.Prompt(p).Length, policy.Model.Config.MaxPositionEmbeddings);
        foreach (var line in data.Notes) observer.Note($"task: {line}");
        return data;
    }

    /// <summary>
    /// The task's data without problems whose prompt exceeds task.max_prompt_tokens or leaves no room
    /// in the model's context for the longest completion a stage samples (what was dropped is in the notes).
    /// </summary>
    public static TaskData FitToModel(JobSpec spec, TaskData data, Func<Problem, int> promptTokens, int maxPositions)
    {
        int newTokens = spec.Stages.Select(s => s switch { GrpoStageSpec g => g.Sampling.MaxNewTokens, EvalStageSpec e => e.MaxNewTokens, _ => 0 })
            .Append(spec.Evaluation?.MaxNewTokens ?? 0).Max();
        int room = maxPositions - newTokens;
        int max = Math.Min(spec.Task.MaxPromptTokens ?? int.MaxValue, room);
        string reason = max == spec.Task.MaxPromptTokens ? $"prompt over {max} tokens (task.max_prompt_tokens)"
            : $"prompt over {max} tokens, which leaves no room for {newTokens} new tokens in the model's {maxPositions} positions";
        return data.Where(p => promptTokens(p) <= max, reason);
    }

    string Save(Policy policy, string stage, int step, bool exact)
    {
        var dir = Path.Combine(runDirectory, "checkpoints", step < 0 ? stage : $"{stage}-step{step}");
        // Stage-final checkpoints are also where the next stage resumes from: kept exact as well.
        Checkpoint.Save(dir, policy.Model, policy.Tokenizer, exact || step < 0 ? null : DTypes.FromConfigName(spec.Checkpoint.DType), spec.Checkpoint.ShardBytes);
        new RunInfo(spec.Name, stage, Math.Max(step, 0), spec.Task.Template, spec.Seed, spec.Task.Arithmetic.MaxOperand,
            spec.Task.Arithmetic.MaxFactor, spec.Task.Arithmetic.Operators, spec.Task.TestSize).Save(dir);
        return dir;
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
        return new Policy(loaded.Model, loaded.Tokenizer, PromptTemplate.Get(spec.Task.Template), spec.Task.System, spec.Task.EffortLine == "last");
    }

    /// <summary>
    /// The policy a resumed job continues with: the checkpoint's model; under LoRA the base made again
    /// from the job's model section (it never changes) and the checkpoint's adapters on it.
    /// </summary>
    Policy ResumePolicy(string dir, torch.Device device)
    {
        return spec.Model.Lora is null ? LoadPolicy(dir, device) : CreatePolicy(device, adapter: Path.Combine(dir, Checkpoint.AdapterDirectory));
    }

    /// <summary>The job's starting policy: a checkpoint or a preset at random, with LoRA adapters attached when the job asks (from adapter, when given).</summary>
    Policy CreatePolicy(torch.Device device, string? adapter = null)
    {
        Policy policy;
        if (spec.Model.Checkpoint is { } path) policy = LoadPolicy(path, device);
        else
        {
            var tokenizer = new ByteTokenizer();
            var model = new CausalLm(ModelPresets.Get(spec.Model.Preset!, tokenizer.VocabSize));
            model.InitializeWeights(spec.Model.InitSeed);
            model.to(device);
            policy = new Policy(model, tokenizer, PromptTemplate.Get(spec.Task.Template), spec.Task.System, spec.Task.EffortLine == "last");
        }
        if (spec.Model.Lora is { } lora)
        {
            policy.Model.AttachLora(lora, spec.Model.InitSeed + 1);
            if ((adapter ?? spec.Model.Adapter) is { } dir) policy.Model.LoadAdapter(dir);
        }
        return policy;
    }
}
