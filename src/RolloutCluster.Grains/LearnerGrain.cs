using Microsoft.Extensions.Logging;
using RolloutCluster.Abstractions;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Grains;

/// <summary>
/// One per job. Runs the job's stages (<see cref="JobRunner"/>) on a thread of its own — training is
/// CPU/GPU-bound and must not hold an Orleans scheduler thread — with GRPO rollouts coming from the
/// cluster's generators (<see cref="ClusterRolloutSource"/>). Grain calls (status, progress, weight
/// chunks, cancel) are served meanwhile. The only writer of the job's weights.
/// </summary>
public sealed partial class LearnerGrain(TimeProvider time, ILogger<LearnerGrain> logger) : Grain, ILearnerGrain
{
    readonly WeightStore _weights = new();
    readonly ProgressRecorder _progress = new();
    CancellationTokenSource? _cancel;
    JobSpec? _spec;
    string _runDirectory = "";
    JobState _state = JobState.Pending;
    string _message = "";
    DateTimeOffset _submitted;
    StageContext? _context;
    long _lastReport;

    public Task StartAsync(JobSubmission submission)
    {
        if (_state is JobState.Running) throw new InvalidOperationException($"job {this.GetPrimaryKeyString()} is already running");
        _spec = JobFile.Parse(submission.JobText, submission.FileName);
        _runDirectory = submission.RunDirectory ?? Path.Combine("runs", _spec.Name);
        _submitted = time.GetUtcNow();
        _state = JobState.Running;
        _message = "starting";
        _cancel = new CancellationTokenSource();
        // A running job must outlive idle-collection: nothing may call it for many minutes of SFT.
        DelayDeactivation(TimeSpan.FromDays(30));
        var grains = GrainFactory;
        var job = this.GetPrimaryKeyString();
        _progress.Changed += () => Report(grains, throttle: true);
        _ = Task.Factory.StartNew(() => RunAsync(grains, job, _spec, _cancel.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        LogStarted(logger, job, _runDirectory);
        return Task.CompletedTask;
    }

    async Task RunAsync(IGrainFactory grains, string job, JobSpec spec, CancellationToken cancellation)
    {
        var rewards = spec.Rewards.Select(r => r.ToWire()).ToList();
        try
        {
            var runner = new JobRunner(spec, _runDirectory, _progress, time, (policy, stage, _) =>
            {
                var source = new ClusterRolloutSource(grains, job, policy, stage, rewards, spec.Task.Template, _weights);
                return source;
            }, onContext: context => _context = context);
            var summary = await runner.RunAsync(cancellation);
            (_state, _message) = (JobState.Completed, $"done in {summary.Seconds / 60:F1} min");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            (_state, _message) = (JobState.Cancelled, "cancelled; resumable checkpoint written");
        }
        catch (Exception e)
        {
            (_state, _message) = (JobState.Failed, e.Message);
            LogFailed(logger, job, e);
        }
        _progress.Note($"job {_state.ToString().ToLowerInvariant()}: {_message}");
        Report(grains, throttle: false);
    }

    /// <summary>Pushes the job's info to the control grain (from the training thread; at most once a second unless final).</summary>
    void Report(IGrainFactory grains, bool throttle)
    {
        long now = time.GetTimestamp();
        if (throttle && time.GetElapsedTime(Interlocked.Read(ref _lastReport), now) < TimeSpan.FromSeconds(1)) return;
        Interlocked.Exchange(ref _lastReport, now);
        var info = Info();
        _ = grains.GetGrain<IControlGrain>(0).ReportAsync(info).ContinueWith(t => LogReportFailed(logger, info.Name, t.Exception!.GetBaseException().Message),
            TaskContinuationOptions.OnlyOnFaulted);
    }

    JobInfo Info()
    {
        var accounting = _context?.Accounting.Values.LastOrDefault();
        string message = _state is JobState.Running && _progress.Stage.Length > 0 ? $"running {_progress.Stage}" : _message;
        return new JobInfo(this.GetPrimaryKeyString(), _state, _progress.Stage, _progress.Step, _progress.Steps, message, _submitted, time.GetUtcNow(),
            _runDirectory, _progress.Checkpoint, accounting?.ToWire() ?? CountsFrom(_progress.Latest), _progress.Latest);
    }

    /// <summary>The running stage's counts, as its latest step reported them.</summary>
    static GroupCounts CountsFrom(IReadOnlyDictionary<string, double> m) => !m.ContainsKey("groups/dispatched") ? GroupCounts.None
        : new((long)m["groups/dispatched"], (long)m["groups/trained"], (long)m["groups/dropped_stale"], (long)m["groups/dropped_no_signal"],
            (long)m["groups/dropped_surplus"], (long)m["groups/dropped_unused"], (long)m["groups/failed"], (long)m["groups/in_flight"], new Dictionary<string, long>());

    public Task<JobInfo> StatusAsync() => Task.FromResult(Info());

    public Task CancelAsync()
    {
        if (_state == JobState.Running) _cancel?.Cancel();
        return Task.CompletedTask;
    }

    public Task<ProgressPage> ProgressAsync(int from)
    {
        var (events, next) = _progress.Since(from);
        return Task.FromResult(new ProgressPage(events, next, Info()));
    }

    public Task<WeightsManifestWire?> GetWeightsManifestAsync(long version) => Task.FromResult(_weights.Manifest(version));

    public Task<byte[]> GetWeightsChunkAsync(long version, int chunk) => Task.FromResult(_weights.Chunk(version, chunk));

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} started; outputs in {RunDirectory}")]
    static partial void LogStarted(ILogger logger, string job, string runDirectory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} failed")]
    static partial void LogFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report job {Job} to the control grain: {Reason}")]
    static partial void LogReportFailed(ILogger logger, string job, string reason);
}
