namespace RolloutCluster.Training.Jobs;

/// <summary>
/// A job file that cannot run, with where and why: "job.yaml:12:5: stages[1].group_size: expected an
/// integer >= 2, found 1". Thrown before anything runs.
/// </summary>
public sealed class JobSpecException(string message) : Exception(message);
