using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Training.Stages;

/// <summary>Supervised fine-tuning on (prompt, target) pairs of the task's data.</summary>
public sealed record SftStageSpec(string Name, int Steps, OptimizerConfig Optimizer, int MicroBatchSize, double? TimeLimitMinutes, int BatchSize, int MaxTokensPerMicroBatch = 0)
    : StageSpec(Name, "sft", Steps);

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
            s.OptionalDouble("time_limit_minutes", 0, exclusiveMin: true), batch, s.Int("max_tokens_per_micro_batch", 0, min: 0));
    }

    public string Describe(StageSpec spec) => spec is SftStageSpec s ? $"{s.Steps} steps of {s.BatchSize} (prompt, target) pairs, lr {s.Optimizer.LearningRate:G3}" : "";

    public Task<int> RunAsync(StageSpec stage, StageContext context, ResumePoint? resume, CancellationToken cancellation)
    {
        var spec = (SftStageSpec)stage;
        var policy = context.Policy;
        int everySteps = context.Job.Checkpoint.EverySteps;
        using var optimizer = new TrainingOptimizer(policy.Model.TrainableParameters(), spec.Optimizer);
        var trainer = new SftTrainer(policy.Model, optimizer, spec.MicroBatchSize, policy.Tokenizer.VocabSize, policy.Tokenizer.EosId, spec.MaxTokensPerMicroBatch);
        var counted = new CountingEnumerator<Problem>(context.TrainStream(rl: false));
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
                batch.Add(new SftExample(policy.Prompt(counted.Current), policy.TargetCompletion(counted.Current)));
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
