using RolloutCluster.Algorithms;

namespace RolloutCluster.Training.Runtime;

/// <summary>What every stage needs from the running job: where to report and how to checkpoint.</summary>
public sealed class StageContext(IJobObserver observer, MetricsLog log, TimeProvider time, long jobStart, Action<string, int> checkpoint,
    Func<string, int, CancellationToken, Task> evaluate, int evaluateEvery)
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

    /// <summary>Writes a checkpoint named after the stage and step.</summary>
    public void Checkpoint(string stage, int step) => checkpoint(stage, step);
}
