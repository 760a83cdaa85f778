namespace RolloutCluster.Training.Runtime;

/// <summary>A job stopped because its process held more memory than the job may use.</summary>
public sealed class JobMemoryException(string message) : Exception(message);

/// <summary>
/// Stops a job, not its process, when memory runs away: checked after every step, every sampling
/// round and every evaluation request, against the job's <c>memory_limit_gb</c> (by default 90% of
/// what this machine can give a process). The check reads the process's resident set, so on a silo
/// shared by several jobs it stops the job that crosses the line; what that job held is freed when it
/// ends, and the silo goes on serving. Sizes known in advance are refused earlier, at validation.
/// </summary>
public sealed class MemoryGuard(string job, double? limitGb)
{
    readonly long _limit = limitGb is { } gb ? (long)(gb * (1L << 30)) : (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.9);

    /// <summary>The limit in bytes.</summary>
    public long Limit => _limit;

    /// <summary>Throws <see cref="JobMemoryException"/>, naming where the job was, when the process is over the limit.</summary>
    public void Check(string where)
    {
        long resident = Environment.WorkingSet;
        if (resident > _limit)
            throw new JobMemoryException($"job {job} stopped at {where}: its process holds {Gib(resident)} of memory, over the job's limit of {Gib(_limit)} " +
                "(memory_limit_gb; by default 90% of the machine's); make the step smaller (prompts_per_step, group_size, max_new_tokens, batch_size)");
    }

    /// <summary>
    /// The most memory this process has held resident since it started, in GiB (Linux's VmHWM; the
    /// current working set elsewhere): what a machine must have for the job, reported with every step.
    /// </summary>
    public static double PeakResidentGb()
    {
        const string path = "/proc/self/status";
        if (File.Exists(path))
            foreach (var line in File.ReadLines(path))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal) && long.TryParse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), out long kb))
                    return kb / (double)(1 << 20);
        return Environment.WorkingSet / (double)(1L << 30);
    }

    static string Gib(long bytes) => $"{bytes / (double)(1L << 30):F2} GiB";
}
