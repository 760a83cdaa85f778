using Microsoft.Extensions.Logging;
using RolloutCluster.Abstractions;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;
using RolloutCluster.Training.Stages;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Grains;

/// <summary>
/// One per job. Runs the job's stages (<see cref="JobRunner"/>) on the process's torch thread — training is
/// CPU/GPU-bound and must not hold an Orleans scheduler thread — with GRPO rollouts coming from the
/// cluster's generators (<see cref="ClusterRolloutEngine"/>). Grain calls (status, progress, weight
/// chunks, cancel) are served meanwhile. The only writer of the job's weights. Its record is durable:
/// if its silo dies, the next <see cref="EnsureRunningAsync"/> (the silos' <c>JobKeeper</c> asks every
/// few seconds) activates it elsewhere and it continues from the latest resumable checkpoint.
/// </summary>
[LearnerPlacement]
public sealed partial class LearnerGrain(
    [PersistentState("job", RolloutStorage.Name)] IPersistentState<LearnerRecord> record,
    ILocalSiloDetails silo, LearnerOptions options, PublishedWeights published, TimeProvider time, ILogger<LearnerGrain> logger) : Grain, ILearnerGrain
{
    WeightStore _weights = null!;   // opened on activation: this activation's published versions and transfer token
    readonly ProgressRecorder _progress = new();
    CancellationTokenSource? _cancel;
    JobSpec? _spec;
    long _lastReport;

    // The durable record may only be touched on the activation's own scheduler (Orleans checks), but
    // status is also built on the training thread: it reads this copy, which only grain turns replace.
    volatile LearnerRecord _view = new();
    bool _exists;

    LearnerRecord Record => record.State;
    bool RunningHere => _cancel is not null;

    async Task SaveAsync()
    {
        await record.WriteStateAsync();
        _exists = true;
        _view = Record.Copy();
    }

    Task? _training;
    bool _deactivating;

    /// <summary>
    /// Orleans may deactivate a running learner (its directory entry was lost with another silo). The
    /// job stops at its next step with a resumable checkpoint and its record stays running, so the
    /// next activation — wherever it lands — continues it; two copies never train the same job.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_training is { IsCompleted: false } training)
        {
            _deactivating = true;
            LogInterrupted(logger, this.GetPrimaryKeyString(), reason.ToString());
            _cancel?.Cancel();
            try { await training.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken); }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
        }
        published.Close(this.GetPrimaryKeyString(), _weights);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _exists = record.RecordExists;
        _view = Record.Copy();
        _weights = published.Open(this.GetPrimaryKeyString());
        // Raised on the training thread, which must not touch the activation: capture the factory here.
        var grains = GrainFactory;
        _progress.Changed += () => Report(grains, throttle: true);
        return Task.CompletedTask;
    }

    public async Task StartAsync(JobSubmission submission)
    {
        if (RunningHere) throw new InvalidOperationException($"job {this.GetPrimaryKeyString()} is already running");
        var spec = submission.Parse();
        Record.Submission = submission;
        Record.RunDirectory = submission.RunDirectory ?? Path.Combine(options.RunsDirectory, spec.Name);
        Record.SubmittedAt = time.GetUtcNow();
        if (submission.Resume) await ResumeFromLatestAsync("resumed");
        else await LaunchAsync(spec, resume: null, "starting");
    }

    public async Task<JobInfo> ResumeAsync()
    {
        if (!record.RecordExists || Record.Submission is null) throw new InvalidOperationException($"job {this.GetPrimaryKeyString()} was never submitted");
        if (RunningHere) throw new InvalidOperationException($"job {this.GetPrimaryKeyString()} is already running");
        await ResumeFromLatestAsync("resumed");
        return Info();
    }

    public async Task<JobInfo> EnsureRunningAsync()
    {
        // A record that says running with nothing running here: the silo that ran it is gone.
        if (record.RecordExists && Record.State == JobState.Running && !RunningHere && Record.Submission is not null)
        {
            LogFailover(logger, this.GetPrimaryKeyString(), silo.SiloAddress.ToString());
            await ResumeFromLatestAsync($"restarted on {silo.SiloAddress.Endpoint} after its silo was lost");
        }
        return Info();
    }

    async Task ResumeFromLatestAsync(string reason)
    {
        var spec = Record.Submission!.Parse();
        var resume = ResumePoint.Latest(Record.RunDirectory);
        if (resume is not null && resume.State.StageIndex >= spec.Stages.Count)
            throw new InvalidOperationException($"job {spec.Name} has already completed (checkpoint {resume.Directory}); nothing to resume");
        _progress.Note(resume is null ? $"{reason}: no resumable checkpoint in {Record.RunDirectory}; starting from the beginning"
            : $"{reason}: from {resume.Directory} ({resume.State.Stage} step {resume.State.StepsDone})");
        await LaunchAsync(spec, resume, reason);
    }

    async Task LaunchAsync(JobSpec spec, ResumePoint? resume, string message)
    {
        _spec = spec;
        Record.State = JobState.Running;
        Record.Message = message;
        Record.Epoch++;
        await SaveAsync();
        _cancel = new CancellationTokenSource();
        // A running job must outlive idle-collection: nothing may call it for many minutes of SFT.
        DelayDeactivation(TimeSpan.FromDays(30));
        var grains = GrainFactory;
        var job = this.GetPrimaryKeyString();
        long epoch = Record.Epoch;
        var runDirectory = Record.RunDirectory;
        var token = _cancel.Token;
        // Off the activation's scheduler (its continuations must not depend on the activation staying
        // alive); the runner itself moves to the process's torch thread at once.
        var training = Task.Run(() => RunAsync(grains, job, spec, runDirectory, epoch, resume, token), CancellationToken.None);
        _training = training;
        _ = RecordOutcomeAsync(training);
        LogStarted(logger, job, runDirectory);
    }

    /// <summary>Runs on the training thread; returns the job's final state and message.</summary>
    async Task<(JobState, string)> RunAsync(IGrainFactory grains, string job, JobSpec spec, string runDirectory, long epoch, ResumePoint? resume,
        CancellationToken cancellation)
    {
        try
        {
            var runner = new JobRunner(spec, runDirectory, _progress, time,
                policy => new ClusterRolloutEngine(grains, job, policy, _weights, epoch), resume: resume);
            var summary = await runner.RunAsync(cancellation);
            return (JobState.Completed, $"done in {summary.Seconds / 60:F1} min");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return (JobState.Cancelled, "cancelled; resumable checkpoint written");
        }
        catch (OutOfMemoryException e)
        {
            // The job's own allocations failed; what it held is released as it unwinds, and the silo serves on.
            LogFailed(logger, job, e);
            return (JobState.Failed, $"job {job} ran out of memory ({e.Message}); make the step smaller or set memory_limit_gb to stop it earlier");
        }
        catch (Exception e)
        {
            LogFailed(logger, job, e);
            return (JobState.Failed, e.Message);
        }
    }

    /// <summary>Back on the grain's scheduler once training ends: the outcome goes to durable storage, then to the control grain.</summary>
    async Task RecordOutcomeAsync(Task<(JobState, string)> training)
    {
        var (state, message) = await training;
        _cancel = null;
        if (_deactivating) return;   // interrupted, not cancelled: the record stays running for the next activation
        (Record.State, Record.Message) = (state, message);
        _progress.Note($"job {state.ToString().ToLowerInvariant()}: {message}");
        try { await SaveAsync(); }
        catch (Exception e) { LogReportFailed(logger, this.GetPrimaryKeyString(), e.Message); }
        Report(GrainFactory, throttle: false);
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
        var accounting = _progress.Groups;
        var view = _view;
        var state = _exists ? view.State : JobState.Pending;
        string message = state is JobState.Running && RunningHere && _progress.Stage.Length > 0 ? $"running {_progress.Stage}" : view.Message;
        return new JobInfo(this.GetPrimaryKeyString(), state, _progress.Stage, _progress.Step, _progress.Steps, message, view.SubmittedAt, time.GetUtcNow(),
            view.RunDirectory, _progress.Checkpoint, accounting?.ToWire() ?? GroupCounts.None, _progress.Latest,
            RunningHere ? silo.SiloAddress.Endpoint.ToString() : null, view.Epoch);
    }

    public Task<JobInfo> StatusAsync() => Task.FromResult(Info());

    public Task CancelAsync()
    {
        _cancel?.Cancel();
        return Task.CompletedTask;
    }

    public Task<ProgressPage> ProgressAsync(int from)
    {
        var (events, next) = _progress.Since(from);
        return Task.FromResult(new ProgressPage(events, next, Info()));
    }

    public Task<WeightsManifestWire?> GetWeightsManifestAsync(long version) => Task.FromResult(_weights.Manifest(version));

    public Task<byte[]> GetWeightsChunkAsync(long version, int chunk) => Task.FromResult(_weights.Chunk(version, chunk));

    public Task<TokenizerWire> GetTokenizerAsync() =>
        Task.FromResult(_weights.Tokenizer ?? throw new InvalidOperationException($"job {this.GetPrimaryKeyString()} has published no weights yet"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} started; outputs in {RunDirectory}")]
    static partial void LogStarted(ILogger logger, string job, string runDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} was running on a silo that is gone; restarting it on {Silo} from its latest checkpoint")]
    static partial void LogFailover(ILogger logger, string job, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}'s learner is being deactivated ({Reason}); stopping at the next step with a resumable checkpoint")]
    static partial void LogInterrupted(ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} failed")]
    static partial void LogFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record job {Job}'s state: {Reason}")]
    static partial void LogReportFailed(ILogger logger, string job, string reason);
}
