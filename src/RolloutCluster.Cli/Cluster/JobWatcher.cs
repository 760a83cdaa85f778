using RolloutCluster.Abstractions;
using RolloutCluster.Algorithms;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Cli.Cluster;

/// <summary>
/// Follows a job through the control grain: polls its progress events and replays them into an
/// <see cref="IJobObserver"/> (progress bars, lines), until the job ends.
/// </summary>
public static class JobWatcher
{
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>Consecutive timed-out polls (30 s each) after which the watcher gives up: 10 minutes without an answer.</summary>
    const int MaxTimeouts = 20;

    public static async Task<(JobInfo Job, List<(string Label, EvalResult Result)> Evaluations)> FollowAsync(IControlGrain control, string job,
        IJobObserver observer, TimeProvider time, CancellationToken cancellation = default)
    {
        var evaluations = new List<(string, EvalResult)>();
        int next = 0, timeouts = 0;
        while (true)
        {
            ProgressPage page;
            try
            {
                page = await control.WatchAsync(job, next);
                timeouts = 0;
            }
            catch (TimeoutException) when (++timeouts < MaxTimeouts)
            {
                // A cluster too busy to answer a poll in time (a machine short of memory, a long GC) is
                // not a failed job: say so once and keep following it.
                if (timeouts == 1) observer.Note($"the cluster did not answer a progress poll in time; still following {job}");
                await Task.Delay(Poll, time, cancellation);
                continue;
            }
            foreach (var e in page.Events) Replay(e, observer, evaluations);
            next = page.Next;
            if (page.Job.State is JobState.Completed or JobState.Failed or JobState.Cancelled)
            {
                // The final events may land just after the state changes; take them too.
                var rest = await control.WatchAsync(job, next);
                foreach (var e in rest.Events) Replay(e, observer, evaluations);
                return (rest.Job, evaluations);
            }
            await Task.Delay(Poll, time, cancellation);
        }
    }

    static void Replay(ProgressEvent e, IJobObserver observer, List<(string, EvalResult)> evaluations)
    {
        switch (e)
        {
            case StageStartedEvent s: observer.StageStarted(s.Stage, s.Kind, s.Steps); break;
            case StepEvent s: observer.StepCompleted(s.Stage, s.Step, s.Steps, new Metrics().Merge(s.Metrics)); break;
            case StageCompletedEvent s: observer.StageCompleted(s.Stage, s.StepsDone, s.Checkpoint); break;
            case EvaluationStartedEvent s: observer.EvaluationStarted(s.Label, s.Problems, s.Samples); break;
            case EvaluationCompletedEvent s:
                var result = EvalResult.FromMetrics("eval", s.Metrics, s.Samples);
                evaluations.Add((s.Label, result));
                observer.EvaluationCompleted(s.Label, result);
                break;
            case NoteEvent n: observer.Note(n.Message); break;
        }
    }
}
