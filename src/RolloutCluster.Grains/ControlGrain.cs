using RolloutCluster.Abstractions;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Grains;

/// <summary>
/// The cluster's front door (key 0): validates job files before anything runs (a bad field comes back
/// as the refusal's reason, naming file, line and field), refuses duplicate names, starts each job's
/// learner, and keeps the registry of jobs that `list`, `status` and `watch` read. The registry is
/// durable (grain storage "rollout"), so it survives the loss of the silo this grain lives on.
/// </summary>
public sealed class ControlGrain([PersistentState("registry", RolloutStorage.Name)] IPersistentState<JobRegistry> registry, LearnerOptions options, TimeProvider time)
    : Grain, IControlGrain
{
    Dictionary<string, JobInfo> Jobs => registry.State.Jobs;
    long _lastWrite;

    public async Task<SubmitResult> SubmitAsync(JobSubmission submission)
    {
        JobSpec spec;
        try { spec = submission.Parse(); }
        catch (JobSpecException e) { return new SubmitResult(false, e.Message, null); }
        if (Jobs.TryGetValue(spec.Name, out var existing))
            return new SubmitResult(false, $"{submission.FileName}: name: a job named \"{spec.Name}\" already exists ({existing.State.ToString().ToLowerInvariant()}); choose another name", existing);
        var now = time.GetUtcNow();
        var info = new JobInfo(spec.Name, JobState.Pending, "", 0, spec.Stages[0].Steps, "submitted", now, now,
            submission.RunDirectory ?? Path.Combine(options.RunsDirectory, spec.Name), null, GroupCounts.None, new Dictionary<string, double>());
        Jobs[spec.Name] = info;
        await SaveAsync();
        await GrainFactory.GetGrain<ILearnerGrain>(spec.Name).StartAsync(submission);
        return new SubmitResult(true, null, info);
    }

    public Task<IReadOnlyList<JobInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<JobInfo>>(Jobs.Values.OrderByDescending(j => j.SubmittedAt).ToList());

    public async Task<JobLookup> StatusAsync(string job)
    {
        if (!Jobs.ContainsKey(job)) return Unknown(job);
        var info = await GrainFactory.GetGrain<ILearnerGrain>(job).StatusAsync();
        await UpdateAsync(info);
        return new JobLookup(info, null);
    }

    public async Task<JobLookup> CancelAsync(string job)
    {
        if (!Jobs.TryGetValue(job, out var info)) return Unknown(job);
        if (info.State is JobState.Completed or JobState.Failed or JobState.Cancelled)
            return new JobLookup(info, $"job \"{job}\" is already {info.State.ToString().ToLowerInvariant()}");
        await GrainFactory.GetGrain<ILearnerGrain>(job).CancelAsync();
        return await StatusAsync(job);
    }

    public async Task<JobLookup> ResumeAsync(string job)
    {
        if (!Jobs.TryGetValue(job, out var info)) return Unknown(job);
        var learner = GrainFactory.GetGrain<ILearnerGrain>(job);
        if (info.State == JobState.Running && (await learner.StatusAsync()).Host is not null)
            return new JobLookup(info, $"job \"{job}\" is running; nothing to resume");
        if (info.State == JobState.Completed) return new JobLookup(info, $"job \"{job}\" has completed; nothing to resume");
        try { info = await learner.ResumeAsync(); }
        catch (InvalidOperationException e) { return new JobLookup(info, e.Message); }
        await UpdateAsync(info, force: true);
        return new JobLookup(info, null);
    }

    public async Task<ProgressPage> WatchAsync(string job, int from)
    {
        if (!Jobs.ContainsKey(job)) throw new KeyNotFoundException(Unknown(job).Error);
        var page = await GrainFactory.GetGrain<ILearnerGrain>(job).ProgressAsync(from);
        await UpdateAsync(page.Job);
        return page;
    }

    public Task ReportAsync(JobInfo job) => UpdateAsync(job);

    public async Task KeepJobsRunningAsync()
    {
        var running = Jobs.Values.Where(j => j.State is JobState.Running or JobState.Pending).Select(j => j.Name).ToList();
        var infos = await Task.WhenAll(running.Select(async name =>
        {
            try { return await GrainFactory.GetGrain<ILearnerGrain>(name).EnsureRunningAsync(); }
            catch (Exception e) when (e is not OperationCanceledException) { return null; }   // tried again on the next round
        }));
        foreach (var info in infos.OfType<JobInfo>()) await UpdateAsync(info);
    }

    /// <summary>Keeps the latest info; storage is written when a job's state changes, and otherwise at most every 5 s.</summary>
    async Task UpdateAsync(JobInfo info, bool force = false)
    {
        bool changed = !Jobs.TryGetValue(info.Name, out var old) || old.State != info.State;
        Jobs[info.Name] = info;
        if (force || changed || time.GetElapsedTime(_lastWrite) > TimeSpan.FromSeconds(5)) await SaveAsync();
    }

    async Task SaveAsync()
    {
        await registry.WriteStateAsync();
        _lastWrite = time.GetTimestamp();
    }

    JobLookup Unknown(string job) =>
        new(null, $"no job named \"{job}\"{(Jobs.Count > 0 ? $"; known: {string.Join(", ", Jobs.Keys.Order(StringComparer.Ordinal))}" : " (the cluster has no jobs)")}");
}
