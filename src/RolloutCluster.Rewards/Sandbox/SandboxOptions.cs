namespace RolloutCluster.Rewards.Sandbox;

/// <summary>How strongly untrusted code is isolated. Anything weaker than Full is an explicit, logged choice.</summary>
public enum SandboxIsolation
{
    /// <summary>bubblewrap (no network, read-only system, private tmpfs, uid nobody, no capabilities), seccomp, cgroup memory and process limits, rlimits.</summary>
    Full,

    /// <summary>As Full but without cgroups: memory and process counts are bounded only by rlimits (a fork bomb is not).</summary>
    NoCgroups,

    /// <summary>Plain subprocesses with rlimits and a deadline: the code sees the network and the file system. For trusted code only.</summary>
    None,
}

/// <summary>Limits and shape of the code sandbox. Every limit applies per program run unless it says per lane.</summary>
public sealed record SandboxOptions
{
    public SandboxIsolation Isolation { get; init; } = SandboxIsolation.Full;

    /// <summary>Sandboxes running side by side, each with a warm Python worker.</summary>
    public int Lanes { get; init; } = Math.Max(1, Environment.ProcessorCount);

    public double CpuSeconds { get; init; } = 10;
    public double WallSeconds { get; init; } = 15;

    /// <summary>Virtual address space of a run (RLIMIT_AS).</summary>
    public long AddressSpaceBytes { get; init; } = 1L << 30;

    /// <summary>Memory of a whole lane (cgroup), worker included.</summary>
    public long LaneMemoryBytes { get; init; } = 768L << 20;

    /// <summary>Processes and threads of a whole lane (cgroup pids.max).</summary>
    public int LaneProcesses { get; init; } = 64;

    /// <summary>Largest file a run may write (RLIMIT_FSIZE).</summary>
    public long FileSizeBytes { get; init; } = 16L << 20;

    /// <summary>Size of the lane's private tmpfs (its only writable place).</summary>
    public long ScratchBytes { get; init; } = 64L << 20;

    /// <summary>stdout + stderr kept per run; a program that writes more is killed.</summary>
    public long OutputBytes { get; init; } = 1L << 20;

    public string Python { get; init; } = "/usr/bin/python3";

    /// <summary>bubblewrap's path; null finds it on PATH or in /usr/bin.</summary>
    public string? BubblewrapPath { get; init; }

    /// <summary>Returns what is wrong, naming the setting, or null.</summary>
    public string? Validate() =>
        Lanes < 1 ? $"lanes must be >= 1, found {Lanes}"
        : CpuSeconds <= 0 ? $"cpu_seconds must be > 0, found {CpuSeconds}"
        : WallSeconds <= 0 ? $"wall_seconds must be > 0, found {WallSeconds}"
        : LaneMemoryBytes < (64L << 20) ? $"lane memory must be at least 64 MiB, found {LaneMemoryBytes}"
        : LaneProcesses < 8 ? $"lane processes must be >= 8, found {LaneProcesses}"
        : OutputBytes < 1024 ? $"output cap must be >= 1024 bytes, found {OutputBytes}"
        : null;
}
