using RolloutCluster.Abstractions;
using RolloutCluster.Algorithms;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Runtime;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Grains;

/// <summary>
/// The learner's <see cref="IJobObserver"/>: keeps every progress event for watchers and the job's
/// latest position (stage, step, metrics). Written by the training thread, read by grain calls.
/// </summary>
public sealed class ProgressRecorder : IJobObserver
{
    readonly List<ProgressEvent> _events = [];
    readonly Lock _lock = new();
    static readonly IReadOnlyDictionary<string, double> Empty = new Dictionary<string, double>();

    public string Stage { get; private set; } = "";
    public int Step { get; private set; }
    public int Steps { get; private set; }
    public IReadOnlyDictionary<string, double> Latest { get; private set; } = Empty;
    public string? Checkpoint { get; private set; }

    /// <summary>The running (or last) stage's group counts; each is a snapshot nobody mutates.</summary>
    public GroupAccounting? Groups { get; private set; }

    /// <summary>Raised (on the training thread) after a step, at most as often as the caller throttles it.</summary>
    public event Action? Changed;

    void Add(ProgressEvent e)
    {
        lock (_lock) _events.Add(e);
        Changed?.Invoke();
    }

    public (IReadOnlyList<ProgressEvent> Events, int Next) Since(int from)
    {
        lock (_lock) return (_events.Skip(Math.Max(0, from)).ToList(), _events.Count);
    }

    public void StageStarted(string stage, string kind, int steps)
    {
        (Stage, Step, Steps) = (stage, 0, steps);
        Add(new StageStartedEvent(stage, kind, steps));
    }

    public void StepCompleted(string stage, int step, int steps, Metrics metrics)
    {
        (Stage, Step, Steps) = (stage, step, steps);
        Latest = new Dictionary<string, double>(metrics);
        Add(new StepEvent(stage, step, steps, Latest));
    }

    public void StageCompleted(string stage, int stepsDone, string checkpoint)
    {
        Checkpoint = checkpoint;
        Add(new StageCompletedEvent(stage, stepsDone, checkpoint));
    }

    public void EvaluationStarted(string label, int problems, int samples) =>
        Add(new EvaluationStartedEvent(label, problems, samples));

    public void EvaluationCompleted(string label, EvalResult result) =>
        Add(new EvaluationCompletedEvent(label, result.Samples, new Dictionary<string, double>(result.ToMetrics("eval"))));

    public void Note(string message) => Add(new NoteEvent(Stage, Step, message));

    public void GroupsCounted(string stage, GroupAccounting groups) => Groups = groups;
}
