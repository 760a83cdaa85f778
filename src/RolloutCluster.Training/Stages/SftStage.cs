using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Training.Stages;

/// <summary>Supervised fine-tuning on (prompt, target) pairs of the task's data.</summary>
/// <param name="Dataset">Null: the task's training rows; "stage:NAME": the dataset an earlier rejection-sampling stage wrote; else a file read with the task's format and fields.</param>
/// <param name="Efforts">Reasoning-effort levels the prompts take turns asking for (the targets stay the rows'): teaches the control line before RL gives it meaning.</param>
/// <param name="NoThink">
/// The share of rows whose target keeps the answer but leaves the reasoning empty (&lt;think&gt;&lt;/think&gt;), whatever
/// the prompt asks: Qwen3's thinking and non-thinking modes in one model. Chosen per row by the job's seed.
/// Alone it teaches no control; it gives RL (the length reward by effort) both modes to choose between.
/// </param>
public sealed record SftStageSpec(string Name, int Steps, OptimizerConfig Optimizer, int MicroBatchSize, double? TimeLimitMinutes, int BatchSize, int MaxTokensPerMicroBatch = 0,
    string? Dataset = null, IReadOnlyList<string>? Efforts = null, double NoThink = 0) : StageSpec(Name, "sft", Steps);

/// <summary>
/// Supervised fine-tuning (cold start, or distillation from another model's traces): batches of
/// (prompt, target completion + eos) from the task's training rows, where the target is a row's
/// verbatim solution, or its worked reasoning and answer in the R1 format.
/// </summary>
public sealed class SftStage : IStage
{
    public string Kind => "sft";

    public StageSpec Parse(SpecMap s, string name, JobParseContext job)
    {
        var steps = s.Int("steps", min: 1);
        int batch = s.Int("batch_size", 16, min: 1, max: 1 << 20);
        return new SftStageSpec(name, steps, JobFile.ParseOptimizer(s.Map("optimizer"), steps), s.Int("micro_batch_size", batch, min: 1),
            s.OptionalDouble("time_limit_minutes", 0, exclusiveMin: true), batch, s.Int("max_tokens_per_micro_batch", 0, min: 0), ParseDataset(s, job),
            EffortLevels.Parse(s), s.Double("no_think", 0, 0, 1));
    }

    /// <summary>dataset: "stage:NAME" must name an earlier stage that writes one; a file must load and give every row a target.</summary>
    static string? ParseDataset(SpecMap s, JobParseContext job)
    {
        if (s.OptionalString("dataset") is not { } dataset) return null;
        if (StageReferences.Name(dataset) is not null)
            return StageReferences.Check<RejectionSamplingStageSpec>(s, "dataset", dataset, job, "an earlier stage that writes a dataset", "earlier rejection-sampling stages");
        string path = job.Resolve(dataset);
        IReadOnlyList<Problem> problems;
        try { problems = new Data.Datasets.DatasetSource(path, job.Task.Format, job.Task.Fields, job.Task.SkipBadRows).Load().Problems; }
        catch (DatasetException e) { throw s.ErrorAt("dataset", e.Message); }
        if (problems.FirstOrDefault(p => p.Solution is null && p.Reasoning is null) is { } bare)
            throw s.ErrorAt("dataset", $"problem {bare.Id} of {dataset} has no target to learn (task.fields.solution or reasoning)");
        return path;
    }

    /// <summary>Row index's target mode: with probability noThink (by seed and index) its reasoning emptied; rows with a verbatim solution keep it.</summary>
    public static Problem Mode(Problem row, double noThink, long seed, long index) =>
        noThink > 0 && row.Solution is null && row.Reasoning is not null && RowRandom.Uniform(seed, index) < noThink ? row with { Reasoning = "" } : row;

    /// <summary>The stage's training rows: the task's stream, or its dataset's (shuffled by the job's seed, every epoch anew).</summary>
    static IEnumerator<Problem>? Rows(SftStageSpec spec, StageContext context)
    {
        if (spec.Dataset is null) return context.TrainStream(rl: false, spec.Efforts);
        var task = context.Job.Task;
        var source = StageReferences.Name(spec.Dataset) is { } writer
            ? new TaskSource(RejectionSamplingStageSpec.OutputPath(context.RunDirectory, writer))
            : new TaskSource(spec.Dataset, task.Format, task.Fields, SkipBadRows: task.SkipBadRows);
        if (new FileInfo(source.Dataset) is { Exists: true, Length: 0 })
        {
            context.Observer.Note($"{spec.Name}: {source.Dataset} has no rows (the stage that wrote it kept nothing); nothing to fine-tune on");
            return null;
        }
        return EffortLevels.Assign(TaskData.Load(source, context.Job.Seed).Train(2 * context.StageIndex), spec.Efforts).GetEnumerator();
    }

    public string Describe(StageSpec spec) => spec is SftStageSpec s
        ? $"{s.Steps} steps of {s.BatchSize} (prompt, target) pairs{(s.Dataset is null ? "" : $" from {s.Dataset}")}, lr {s.Optimizer.LearningRate:G3}" +
          (s.Efforts is null ? "" : $", prompts asking for effort {string.Join(", ", s.Efforts)} in turn") +
          (s.NoThink > 0 ? $", {s.NoThink:P0} of targets without reasoning" : "") : "";

    public Task<int> RunAsync(StageSpec stage, StageContext context, ResumePoint? resume, CancellationToken cancellation)
    {
        var spec = (SftStageSpec)stage;
        var policy = context.Policy;
        int everySteps = context.Job.Checkpoint.EverySteps;
        using var optimizer = new TrainingOptimizer(policy.Model.TrainableParameters(), spec.Optimizer);
        var trainer = new SftTrainer(policy.Model, optimizer, spec.MicroBatchSize, policy.Tokenizer.VocabSize, policy.Tokenizer.EosId, spec.MaxTokensPerMicroBatch);
        if (Rows(spec, context) is not { } rows) return Task.FromResult(0);
        var counted = new CountingEnumerator<Problem>(rows);
        long start = context.Time.GetTimestamp();
        int step = 0;
        if (resume is not null)
        {
            optimizer.Load(Path.Combine(resume.Directory, ResumeState.OptimizerFile));
            counted.Skip(resume.State.PromptsConsumed);
            step = resume.State.StepsDone;
        }
        for (; step < spec.Steps; step++)
        {
            if (cancellation.IsCancellationRequested)
            {
                context.Resumable(spec.Name, step, counted.Yielded, 0, optimizer, "cancelled");
                cancellation.ThrowIfCancellationRequested();
            }
            if (spec.TimeLimitMinutes is { } limit && context.Time.GetElapsedTime(start).TotalMinutes >= limit)
            {
                context.Observer.Note($"{spec.Name}: time limit of {limit} min reached after {step} steps");
                break;
            }
            var batch = new List<SftExample>(spec.BatchSize);
            while (batch.Count < spec.BatchSize && counted.MoveNext())
            {
                var row = Mode(counted.Current, spec.NoThink, context.Job.Seed, counted.Yielded);
                batch.Add(new SftExample(policy.Prompt(row), policy.TargetCompletion(row)));
            }
            if (batch.Count == 0)
            {
                context.Observer.Note($"{spec.Name}: the training data ran out (task.epochs) after {step} steps");
                break;
            }
            long stepStart = context.Time.GetTimestamp();
            var metrics = trainer.Step(batch);
            policy.Changed();
            metrics["timing/step_s"] = context.Time.GetElapsedTime(stepStart).TotalSeconds;
            context.StepDone(spec.Name, step + 1, spec.Steps, metrics);
            if (everySteps > 0 && (step + 1) % everySteps == 0 && step + 1 < spec.Steps)
                context.Resumable(spec.Name, step + 1, counted.Yielded, 0, optimizer, "periodic");
        }
        return Task.FromResult(step);
    }
}
