using RolloutCluster.Algorithms;

namespace RolloutCluster.Training.Runtime;

/// <summary>What every stage needs from the running job: where to report and how to checkpoint.</summary>
public sealed class StageContext(IJobObserver observer, MetricsLog log, TimeProvider time, long jobStart, Func<string, int, string> checkpoint,
    Func<string, int, CancellationToken, Task> evaluate, int evaluateEvery, int stageIndex = 0)
{
    public IJobObserver Observer => observer;
    public TimeProvider Time => time;

    public double ElapsedSeconds => time.GetElapsedTime(jobStart).TotalSeconds;

    /// <summary>Records a completed step in metrics.jsonl and tells the observer.</summary>
    public void StepDone(string stage, int step, int steps, Metrics metrics)
    {
        log.Write("train", stage, step, ElapsedSeconds, metrics);
        observer.StepCompleted(stage, step, steps, metrics);
    }

    /// <summary>Evaluates on the held-out set when the job asks for a curve and step is due (not at the stage's last step: that evaluation follows the stage).</summary>
    public Task MaybeEvaluateAsync(string stage, int step, int steps, CancellationToken cancellation) =>
        evaluateEvery > 0 && step % evaluateEvery == 0 && step < steps ? evaluate(stage, step, cancellation) : Task.CompletedTask;

    /// <summary>The groups a GRPO stage dispatched and what became of them, once it ended.</summary>
    public Dictionary<string, GroupAccounting> Accounting { get; } = new(StringComparer.Ordinal);

    public void StageAccounting(string stage, GroupAccounting accounting) => Accounting[stage] = accounting;

    /// <summary>Index of the running stage in the job's list.</summary>
    public int StageIndex { get; set; } = stageIndex;

    /// <summary>Writes a checkpoint named after the stage and step; returns its directory.</summary>
    public string Checkpoint(string stage, int step) => checkpoint(stage, step);

    /// <summary>
    /// Writes a checkpoint a job can continue from: the model, the optimizer's state and resume.json
    /// (stage, steps done, prompts consumed, weights version). Used when a job is cancelled.
    /// </summary>
    public string Resumable(string stage, int stepsDone, long promptsConsumed, long version, TrainingOptimizer optimizer, string reason)
    {
        var dir = checkpoint(stage, stepsDone);
        optimizer.Save(Path.Combine(dir, ResumeState.OptimizerFile));
        new ResumeState(StageIndex, stage, stepsDone, promptsConsumed, version, reason).Save(dir);
        observer.Note($"{stage}: {reason} after {stepsDone} steps; resumable checkpoint {dir}");
        return dir;
    }
}
