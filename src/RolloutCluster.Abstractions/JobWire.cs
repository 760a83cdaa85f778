namespace RolloutCluster.Abstractions;

/// <summary>
/// A job as submitted: the job file's text (YAML or JSON) and its name for messages. With Resume, the
/// job continues from the latest resumable checkpoint in its run directory instead of starting afresh.
/// Overrides are `--set path=value` items applied to the file before it is read; relative dataset
/// paths start at BaseDirectory (the submitter's working directory).
/// </summary>
[GenerateSerializer, Immutable, Alias("rollout.job-submission")]
public sealed record JobSubmission(
    [property: Id(0)] string JobText,
    [property: Id(1)] string FileName,
    [property: Id(2)] string? RunDirectory = null,
    [property: Id(3)] bool Resume = false,
    [property: Id(4)] IReadOnlyList<string>? Overrides = null,
    [property: Id(5)] string? BaseDirectory = null);

/// <summary>Where a job is in its life.</summary>
[GenerateSerializer, Alias("rollout.job-state")]
public enum JobState
{
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>What became of every group a job dispatched: dispatched = trained + dropped + failed + in flight.</summary>
[GenerateSerializer, Immutable, Alias("rollout.group-counts")]
public sealed record GroupCounts(
    [property: Id(0)] long Dispatched,
    [property: Id(1)] long Trained,
    [property: Id(2)] long DroppedStale,
    [property: Id(3)] long DroppedNoSignal,
    [property: Id(4)] long DroppedSurplus,
    [property: Id(5)] long DroppedUnused,
    [property: Id(6)] long Failed,
    [property: Id(7)] long InFlight,
    [property: Id(8)] IReadOnlyDictionary<string, long> BySource)
{
    public static readonly GroupCounts None = new(0, 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>());

    public bool Balanced => Dispatched == Trained + DroppedStale + DroppedNoSignal + DroppedSurplus + DroppedUnused + Failed + InFlight;
}

/// <summary>A job's status as the control grain reports it. Host is the silo endpoint running its learner (null when none does); Epoch counts its starts and resumes.</summary>
[GenerateSerializer, Immutable, Alias("rollout.job-info")]
public sealed record JobInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] JobState State,
    [property: Id(2)] string Stage,
    [property: Id(3)] int Step,
    [property: Id(4)] int Steps,
    [property: Id(5)] string Message,
    [property: Id(6)] DateTimeOffset SubmittedAt,
    [property: Id(7)] DateTimeOffset UpdatedAt,
    [property: Id(8)] string RunDirectory,
    [property: Id(9)] string? Checkpoint,
    [property: Id(10)] GroupCounts Groups,
    [property: Id(11)] IReadOnlyDictionary<string, double> LatestMetrics,
    [property: Id(12)] string? Host = null,
    [property: Id(13)] long Epoch = 0);

/// <summary>The answer to a submission: accepted with the job's info, or refused with the reason (file, line, field).</summary>
[GenerateSerializer, Immutable, Alias("rollout.submit-result")]
public sealed record SubmitResult(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] string? Error,
    [property: Id(2)] JobInfo? Job);

/// <summary>The answer to a cancel or status request for a job that may not exist.</summary>
[GenerateSerializer, Immutable, Alias("rollout.job-lookup")]
public sealed record JobLookup(
    [property: Id(0)] JobInfo? Job,
    [property: Id(1)] string? Error);

/// <summary>
/// One thing a running job reported, typed by what happened. Clients replay these to draw progress
/// (`rollout run`, `rollout watch`).
/// </summary>
[GenerateSerializer, Immutable, Alias("rollout.progress-event")]
public abstract record ProgressEvent;

/// <summary>A stage began: its name, kind and planned steps.</summary>
[GenerateSerializer, Immutable, Alias("rollout.progress.stage-started")]
public sealed record StageStartedEvent([property: Id(0)] string Stage, [property: Id(1)] string Kind, [property: Id(2)] int Steps) : ProgressEvent;

/// <summary>A step of a stage completed, with its metrics.</summary>
[GenerateSerializer, Immutable, Alias("rollout.progress.step")]
public sealed record StepEvent([property: Id(0)] string Stage, [property: Id(1)] int Step, [property: Id(2)] int Steps,
    [property: Id(3)] IReadOnlyDictionary<string, double> Metrics) : ProgressEvent;

/// <summary>A stage ended after StepsDone steps; Checkpoint is its final checkpoint.</summary>
[GenerateSerializer, Immutable, Alias("rollout.progress.stage-completed")]
public sealed record StageCompletedEvent([property: Id(0)] string Stage, [property: Id(1)] int StepsDone, [property: Id(2)] string Checkpoint) : ProgressEvent;

/// <summary>An evaluation began: Problems problems, Samples samples each.</summary>
[GenerateSerializer, Immutable, Alias("rollout.progress.eval-started")]
public sealed record EvaluationStartedEvent([property: Id(0)] string Label, [property: Id(1)] int Problems, [property: Id(2)] int Samples) : ProgressEvent;

/// <summary>An evaluation ended; Metrics are its eval/… values.</summary>
[GenerateSerializer, Immutable, Alias("rollout.progress.eval-completed")]
public sealed record EvaluationCompletedEvent([property: Id(0)] string Label, [property: Id(1)] int Samples,
    [property: Id(2)] IReadOnlyDictionary<string, double> Metrics) : ProgressEvent;

/// <summary>A message for the user (a retry, a time limit, a resume), at the job's position.</summary>
[GenerateSerializer, Immutable, Alias("rollout.progress.note")]
public sealed record NoteEvent([property: Id(0)] string Stage, [property: Id(1)] int Step, [property: Id(2)] string Message) : ProgressEvent;

/// <summary>Progress events from index From on, the index to ask from next, and the job's info.</summary>
[GenerateSerializer, Immutable, Alias("rollout.progress-page")]
public sealed record ProgressPage(
    [property: Id(0)] IReadOnlyList<ProgressEvent> Events,
    [property: Id(1)] int Next,
    [property: Id(2)] JobInfo Job);
