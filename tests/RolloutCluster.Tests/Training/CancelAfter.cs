using RolloutCluster.Algorithms;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Training;

/// <summary>Cancels the job right after the given step of the given stage completes.</summary>
public sealed class CancelAfter(string stage, int step, CancellationTokenSource cancel) : IJobObserver
{
    public void StepCompleted(string s, int n, int steps, Metrics metrics) { if (s == stage && n == step) cancel.Cancel(); }
    public void StageStarted(string s, string kind, int steps) { }
    public void StageCompleted(string s, int stepsDone, string checkpoint) { }
    public void EvaluationStarted(string label, int problems, int samples) { }
    public void EvaluationCompleted(string label, EvalResult result) { }
    public void Note(string message) { }
}
