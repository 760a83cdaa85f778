using RolloutCluster.Algorithms;

namespace RolloutCluster.Training.Runtime;

/// <summary>What every stage needs from the running job: where to report and how to checkpoint.</summary>
/// <param name="checkpoint">Saves the policy as (stage, step, exact: in the model's own dtype); returns the directory.</param>
/// <param name="elapsedOffset">Seconds the job ran before it was resumed, so elapsed_s continues.</param>
public sealed class StageContext(IJobObserver observer, MetricsLog log, TimeProvider time, long jobStart, Func<string, int, bool, string> checkpoint,
    Func<string, int, CancellationToken, Task> evaluate, int evaluateEvery, int stageIndex = 0, double elapsedOffset = 0)
{
    public IJobObserver Observer => observer;
    public TimeProvider Time => time;

    public double ElapsedSeconds => elapsedOffset + time.GetElapsedTime(jobStart).TotalSeconds;

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

    /// <summary>Records a stage's accounting: a copy after every step, the final counts when it ends.</summary>
    public void StageAccounting(string stage, GroupAccounting accounting)
    {
        lock (Accounting) Accounting[stage] = accounting;
        _latest = accounting;
    }

    volatile GroupAccounting? _latest;

    /// <summary>The running (or last) stage's counts; safe to read from another thread (each is a snapshot nobody mutates).</summary>
    public GroupAccounting? LatestAccounting => _latest;

    /// <summary>Index of the running stage in the job's list.</summary>
    public int StageIndex { get; set; } = stageIndex;


    /// <summary>
    /// Writes a checkpoint a job can continue from: the model in its own dtype, the optimizer's state
    /// and, last, resume.json (stage, steps done, prompts consumed, weights version, group counts).
    /// </summary>
    public string Resumable(string stage, int stepsDone, long promptsConsumed, long version, TrainingOptimizer optimizer, string reason,
        Dictionary<string, long>? groups = null)
    {
        var dir = checkpoint(stage, stepsDone, true);
        optimizer.Save(Path.Combine(dir, ResumeState.OptimizerFile));
        new ResumeState(StageIndex, stage, stepsDone, promptsConsumed, version, reason, groups).Save(dir);
        if (reason != "periodic") observer.Note($"{stage}: {reason} after {stepsDone} steps; resumable checkpoint {dir}");
        return dir;
    }
}
