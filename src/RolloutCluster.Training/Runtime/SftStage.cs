using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Runtime;

/// <summary>Cold-start SFT on the task's worked solutions: batches of (prompt, &lt;think&gt;…&lt;/answer&gt;&lt;eos&gt;).</summary>
public static class SftStage
{
    /// <summary>Runs the stage (from <paramref name="resume"/>'s step when given); returns the number of steps done (fewer when the time limit stops it).</summary>
    public static int Run(Policy policy, SftStageSpec spec, IEnumerator<Problem> data, int everySteps, StageContext context, CancellationToken cancellation,
        ResumePoint? resume = null)
    {
        using var optimizer = new TrainingOptimizer(policy.Model.parameters(), spec.Optimizer);
        var trainer = new SftTrainer(policy.Model, optimizer, spec.MicroBatchSize, policy.Tokenizer.VocabSize, policy.Tokenizer.EosId);
        var counted = new CountingEnumerator<Problem>(data);
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
                var p = counted.Current;
                if (p.Reasoning is null) throw new InvalidOperationException($"problem {p.Id} has no worked solution to learn from");
                batch.Add(new SftExample(policy.Prompt(p.Question), policy.TargetCompletion(p.Reasoning, p.Answer)));
            }
            long stepStart = context.Time.GetTimestamp();
            var metrics = trainer.Step(batch);
            metrics["timing/step_s"] = context.Time.GetElapsedTime(stepStart).TotalSeconds;
            context.StepDone(spec.Name, step + 1, spec.Steps, metrics);
            if (everySteps > 0 && (step + 1) % everySteps == 0 && step + 1 < spec.Steps)
                context.Resumable(spec.Name, step + 1, counted.Yielded, 0, optimizer, "periodic");
        }
        return step;
    }
}
