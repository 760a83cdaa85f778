namespace RolloutCluster.Abstractions;

/// <summary>The cluster's front door (one per cluster, key 0): submit, list, status, cancel and watch jobs.</summary>
public interface IControlGrain : IGrainWithIntegerKey
{
    /// <summary>Validates the job file and starts the job; a bad file or a duplicate name is refused with the reason.</summary>
    [Alias("submit")]
    Task<SubmitResult> SubmitAsync(JobSubmission submission);

    /// <summary>Every job known to the cluster, newest first.</summary>
    [Alias("list")]
    Task<IReadOnlyList<JobInfo>> ListAsync();

    /// <summary>A job's current status, or an error naming the unknown job.</summary>
    [Alias("status")]
    Task<JobLookup> StatusAsync(string job);

    /// <summary>Asks a job to stop at its next step boundary, leaving a resumable checkpoint.</summary>
    [Alias("cancel")]
    Task<JobLookup> CancelAsync(string job);

    /// <summary>A job's progress events from index from on (for live watching).</summary>
    [Alias("watch")]
    Task<ProgressPage> WatchAsync(string job, int from);

    /// <summary>Continues a stopped job (cancelled, failed, or left running by a cluster that went down) from its latest resumable checkpoint.</summary>
    [Alias("resume")]
    Task<JobLookup> ResumeAsync(string job);

    /// <summary>Makes sure every running job's learner is active, restarting a learner whose silo died (called by each silo every few seconds).</summary>
    [Alias("keep-jobs-running")]
    Task KeepJobsRunningAsync();

    /// <summary>Records a job's latest status (called by its learner).</summary>
    [Alias("report")]
    Task ReportAsync(JobInfo job);
}
