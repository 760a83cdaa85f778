using RolloutCluster.Abstractions;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Grains;

/// <summary>
/// The cluster's front door (key 0): validates job files before anything runs (a bad field comes back
/// as the refusal's reason, naming file, line and field), refuses duplicate names, starts each job's
/// learner, and keeps the registry of jobs that `list`, `status` and `watch` read.
/// </summary>
public sealed class ControlGrain(TimeProvider time) : Grain, IControlGrain
{
    readonly Dictionary<string, JobInfo> _jobs = new(StringComparer.Ordinal);

    public async Task<SubmitResult> SubmitAsync(JobSubmission submission)
    {
        JobSpec spec;
        try { spec = JobFile.Parse(submission.JobText, submission.FileName); }
        catch (JobSpecException e) { return new SubmitResult(false, e.Message, null); }
        if (_jobs.TryGetValue(spec.Name, out var existing))
            return new SubmitResult(false, $"{submission.FileName}: name: a job named \"{spec.Name}\" already exists ({existing.State.ToString().ToLowerInvariant()}); choose another name", existing);
        var now = time.GetUtcNow();
        var info = new JobInfo(spec.Name, JobState.Pending, "", 0, spec.Stages[0].Steps, "submitted", now, now,
            submission.RunDirectory ?? Path.Combine("runs", spec.Name), null, GroupCounts.None, new Dictionary<string, double>());
        _jobs[spec.Name] = info;
        await GrainFactory.GetGrain<ILearnerGrain>(spec.Name).StartAsync(submission);
        return new SubmitResult(true, null, info);
    }

    public Task<IReadOnlyList<JobInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<JobInfo>>(_jobs.Values.OrderByDescending(j => j.SubmittedAt).ToList());

    public async Task<JobLookup> StatusAsync(string job)
    {
        if (!_jobs.ContainsKey(job)) return Unknown(job);
        var info = await GrainFactory.GetGrain<ILearnerGrain>(job).StatusAsync();
        _jobs[job] = info;
        return new JobLookup(info, null);
    }

    public async Task<JobLookup> CancelAsync(string job)
    {
        if (!_jobs.TryGetValue(job, out var info)) return Unknown(job);
        if (info.State is JobState.Completed or JobState.Failed or JobState.Cancelled)
            return new JobLookup(info, $"job \"{job}\" is already {info.State.ToString().ToLowerInvariant()}");
        await GrainFactory.GetGrain<ILearnerGrain>(job).CancelAsync();
        return await StatusAsync(job);
    }

    public async Task<ProgressPage> WatchAsync(string job, int from)
    {
        if (!_jobs.ContainsKey(job)) throw new KeyNotFoundException(Unknown(job).Error);
        var page = await GrainFactory.GetGrain<ILearnerGrain>(job).ProgressAsync(from);
        _jobs[job] = page.Job;
        return page;
    }

    public Task ReportAsync(JobInfo job)
    {
        _jobs[job.Name] = job;
        return Task.CompletedTask;
    }

    JobLookup Unknown(string job) =>
        new(null, $"no job named \"{job}\"{(_jobs.Count > 0 ? $"; known: {string.Join(", ", _jobs.Keys.Order(StringComparer.Ordinal))}" : " (the cluster has no jobs)")}");
}
