using RolloutCluster.Algorithms;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Training.Runtime;

/// <summary>What a running job reports as it goes; the CLI draws progress bars from it, tests record it.</summary>
public interface IJobObserver
{
    void StageStarted(string stage, string kind, int steps);
    void StepCompleted(string stage, int step, int steps, Metrics metrics);
    void StageCompleted(string stage, int stepsDone, string checkpoint);
    void EvaluationStarted(string label, int problems, int samples);
    void EvaluationCompleted(string label, EvalResult result);
    void Note(string message);

    /// <summary>A stage's group accounting after a step (a snapshot nobody mutates): how every group dispatched ended.</summary>
    void GroupsCounted(string stage, GroupAccounting groups) { }
}

/// <summary>An observer that ignores everything.</summary>
public sealed class NullObserver : IJobObserver
{
    public static readonly NullObserver Instance = new();
    public void StageStarted(string stage, string kind, int steps) { }
    public void StepCompleted(string stage, int step, int steps, Metrics metrics) { }
    public void StageCompleted(string stage, int stepsDone, string checkpoint) { }
    public void EvaluationStarted(string label, int problems, int samples) { }
    public void EvaluationCompleted(string label, EvalResult result) { }
    public void Note(string message) { }
}
