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

    /// <summary>Records a job's latest status (called by its learner).</summary>
    [Alias("report")]
    Task ReportAsync(JobInfo job);
}
