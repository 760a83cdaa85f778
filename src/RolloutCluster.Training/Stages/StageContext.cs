using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Training.Stages;

/// <summary>
/// What a stage runs against: the job, its policy, its data, the rollout engine, and how to report,
/// evaluate and checkpoint. One per job; <see cref="StageIndex"/> names the running stage.
/// </summary>
public sealed class StageContext
{
    public required JobSpec Job { get; init; }
    public required Policy Policy { get; init; }
    public required TaskData Data { get; init; }
    public required IRolloutEngine Engine { get; init; }

    /// <summary>Reward sets for engines a stage makes of its own (a distillation teacher's, in this process).</summary>
    public required RolloutCluster.Rewards.RewardSets Rewards { get; init; }
    public required IJobObserver Observer { get; init; }
    public required MetricsLog Log { get; init; }
    public required TimeProvider Time { get; init; }
    public required long JobStart { get; init; }

    /// <summary>runs/&lt;job&gt;: where stages write what they produce besides checkpoints (datasets).</summary>
    public required string RunDirectory { get; init; }

    /// <summary>Stops the job (not its process) when the process holds more memory than the job may use.</summary>
    public required MemoryGuard Memory { get; init; }

    /// <summary>Seconds the job ran before it was resumed, so elapsed_s continues.</summary>
    public double ElapsedOffset { get; init; }

    /// <summary>Saves the policy as (stage, step, exact: in the model's own dtype); returns the directory.</summary>
    public required Func<string, int, bool, string> Checkpoint { get; init; }

    /// <summary>Evaluates the policy on the job's held-out set, logged as following (stage, step).</summary>
    public required Func<string, int, CancellationToken, Task> Evaluate { get; init; }

    /// <summary>Loads a checkpoint as a policy with the job's prompt template (a distillation teacher), on the job's device.</summary>
    public required Func<string, Policy> LoadPolicy { get; init; }

    /// <summary>Loads the policy a stage began from (the previous stage's final checkpoint, or the job's initial model): the KL reference on resume.</summary>
    public required Func<int, Policy> StartingPolicy { get; init; }

    /// <summary>Index of the running stage in the job's list.</summary>
    public int StageIndex { get; set; }

    public double ElapsedSeconds => ElapsedOffset + Time.GetElapsedTime(JobStart).TotalSeconds;

    /// <summary>Training problems for the running stage: stream 2i for supervised stages, 2i + 1 for RL ones (each reproducible from the seed).</summary>
    public IEnumerator<Problem> TrainStream(bool rl, IReadOnlyList<string>? efforts = null) =>
        EffortLevels.Assign(Data.Train(2 * StageIndex + (rl ? 1 : 0)), efforts).GetEnumerator();

    /// <summary>The first count problems of the running stage's RL stream (fewer when the training data runs out first).</summary>
    public List<Problem> TrainProblems(int count)
    {
        var problems = new List<Problem>(count);
        using var stream = TrainStream(rl: true);
        while (problems.Count < count && stream.MoveNext()) problems.Add(stream.Current);
        return problems;
    }

    /// <summary>Records a completed step in metrics.jsonl and tells the observer.</summary>
    public void StepDone(string stage, int step, int steps, Metrics metrics)
    {
        Memory.Check($"{stage} step {step}");
        metrics["perf/peak_rss_gb"] = MemoryGuard.PeakResidentGb();
        Log.Write("train", stage, step, ElapsedSeconds, metrics);
        Observer.StepCompleted(stage, step, steps, metrics);
    }

    /// <summary>Evaluates on the held-out set when the job asks for a curve and step is due (not at the stage's last step: that evaluation follows the stage).</summary>
    public Task MaybeEvaluateAsync(string stage, int step, int steps, CancellationToken cancellation) =>
        Job.Evaluation is { EverySteps: > 0 and var every } && step % every == 0 && step < steps ? Evaluate(stage, step, cancellation) : Task.CompletedTask;

    /// <summary>Reports a stage's accounting (a copy after every step, the final counts when it ends) to the observer.</summary>
    public void StageAccounting(string stage, GroupAccounting accounting) => Observer.GroupsCounted(stage, accounting);

    /// <summary>
    /// Writes a checkpoint a job can continue from: the model in its own dtype, the optimizer's state
    /// and, last, resume.json (stage, steps done, prompts consumed, weights version, group counts).
    /// </summary>
    public string Resumable(string stage, int stepsDone, long promptsConsumed, long version, TrainingOptimizer optimizer, string reason,
        Dictionary<string, long>? groups = null)
    {
        var dir = Checkpoint(stage, stepsDone, true);
        optimizer.Save(Path.Combine(dir, ResumeState.OptimizerFile));
        new ResumeState(StageIndex, stage, stepsDone, promptsConsumed, version, reason, groups).Save(dir);
        if (reason != "periodic") Observer.Note($"{stage}: {reason} after {stepsDone} steps; resumable checkpoint {dir}");
        return dir;
    }
}
