using RolloutCluster.Abstractions;

namespace RolloutCluster.Grains;

/// <summary>
/// A learner's durable record (grain storage "rollout": Redis on a multi-node cluster): enough to
/// restart the job on another silo from its run directory's latest resumable checkpoint.
/// </summary>
[GenerateSerializer, Alias("rollout.learner-record")]
public sealed class LearnerRecord
{
    [Id(0)] public JobSubmission? Submission { get; set; }
    [Id(1)] public string RunDirectory { get; set; } = "";
    [Id(2)] public JobState State { get; set; }
    [Id(3)] public string Message { get; set; } = "";
    [Id(4)] public DateTimeOffset SubmittedAt { get; set; }

    /// <summary>How many times the job has been started or resumed; weights of one epoch never serve another.</summary>
    [Id(5)] public long Epoch { get; set; }

    public LearnerRecord Copy() => (LearnerRecord)MemberwiseClone();
}

/// <summary>The control grain's durable registry of jobs.</summary>
[GenerateSerializer, Alias("rollout.job-registry")]
public sealed class JobRegistry
{
    [Id(0)] public Dictionary<string, JobInfo> Jobs { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The generator directory's durable list: generator keys by silo.</summary>
[GenerateSerializer, Alias("rollout.generator-directory")]
public sealed class GeneratorDirectory
{
    [Id(0)] public Dictionary<string, List<string>> BySilo { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Names shared by the grains and the silo configuration.</summary>
public static class RolloutStorage
{
    /// <summary>The grain storage provider holding job state.</summary>
    public const string Name = "rollout";
}

/// <summary>Where learners write jobs submitted without a run directory: RunsDirectory/&lt;job&gt;.</summary>
public sealed record LearnerOptions(string RunsDirectory = "runs");
