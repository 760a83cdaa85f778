namespace RolloutCluster.Abstractions;

/// <summary>
/// One per job (keyed by the job's name): owns the job's state machine, the optimizer and the only
/// writable copy of the weights, publishes weights versions and serves them in chunks.
/// </summary>
public interface ILearnerGrain : IGrainWithStringKey
{
    /// <summary>Starts the job (validated by the control grain) in the background.</summary>
    [Alias("start")]
    Task StartAsync(JobSubmission submission);

    /// <summary>Continues the job from the latest resumable checkpoint in its run directory (from the start if there is none).</summary>
    [Alias("resume")]
    Task<JobInfo> ResumeAsync();

    /// <summary>Activates the learner and, if its durable record says running but nothing runs here (its silo died), resumes the job.</summary>
    [Alias("ensure-running")]
    Task<JobInfo> EnsureRunningAsync();

    /// <summary>The job's current status.</summary>
    [Alias("status")]
    Task<JobInfo> StatusAsync();

    /// <summary>Stops the job at its next step boundary and writes a resumable checkpoint.</summary>
    [Alias("cancel")]
    Task CancelAsync();

    /// <summary>Progress events from index from on.</summary>
    [Alias("progress")]
    Task<ProgressPage> ProgressAsync(int from);

    /// <summary>The manifest of a published weights version, or null once it is no longer kept.</summary>
    [Alias("weights-manifest")]
    Task<WeightsManifestWire?> GetWeightsManifestAsync(long version);

    /// <summary>One chunk of a published weights version's buffer.</summary>
    [Alias("weights-chunk")]
    Task<byte[]> GetWeightsChunkAsync(long version, int chunk);

    /// <summary>The job's tokenizer as tokenizer.json text, with its end-of-sequence token: what a generator needs once to build its replica.</summary>
    [Alias("tokenizer")]
    Task<TokenizerWire> GetTokenizerAsync();
}
