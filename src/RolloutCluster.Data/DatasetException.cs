namespace RolloutCluster.Data;

/// <summary>A dataset that cannot be used; the message names the file and line (or the reference) and the fault.</summary>
public sealed class DatasetException(string message) : Exception(message);
