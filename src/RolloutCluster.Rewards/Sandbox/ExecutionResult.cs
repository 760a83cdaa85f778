namespace RolloutCluster.Rewards.Sandbox;

/// <summary>How a program run ended.</summary>
public enum ExecutionVerdict
{
    /// <summary>The program exited by itself (see ExitCode).</summary>
    Exited,

    /// <summary>The wall-clock deadline passed; the whole run was killed.</summary>
    Timeout,

    /// <summary>The CPU-time limit was reached.</summary>
    CpuLimit,

    /// <summary>stdout + stderr exceeded the cap; the run was killed.</summary>
    OutputLimit,

    /// <summary>Killed by a signal (a crash, or the memory limit).</summary>
    Signal,

    /// <summary>The sandbox worker died during the run (the program killed it); the lane was rebuilt.</summary>
    WorkerDied,

    /// <summary>The sandbox itself failed; not the program's doing.</summary>
    SandboxError,
}

/// <summary>The outcome of running one program.</summary>
public sealed record ExecutionResult(ExecutionVerdict Verdict, int ExitCode, int Signal, string Stdout, string Stderr, double Milliseconds)
{
    public bool Succeeded => Verdict == ExecutionVerdict.Exited && ExitCode == 0;

    /// <summary>A one-line reason for a reward: what happened, with the last line of stderr when the program failed.</summary>
    public string Describe() => Verdict switch
    {
        ExecutionVerdict.Exited when ExitCode == 0 => "exit 0",
        ExecutionVerdict.Exited => $"exit {ExitCode}: {ErrorLine(Stderr)}",
        ExecutionVerdict.Timeout => "killed: wall-clock limit",
        ExecutionVerdict.CpuLimit => "killed: CPU-time limit",
        ExecutionVerdict.OutputLimit => "killed: output limit",
        ExecutionVerdict.Signal => $"killed by signal {Signal}{(Signal == 9 ? " (memory limit?)" : "")}",
        ExecutionVerdict.WorkerDied => "the program killed its sandbox worker",
        _ => $"sandbox error: {LastLine(Stderr)}",
    };

    static string LastLine(string text) =>
        Clip(text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "");

    /// <summary>
    /// The last Python exception line ("BlockingIOError: [Errno 11] …"), else the last line: when a
    /// program's processes write tracebacks at once (a fork bomb), the very last line may be a frame.
    /// </summary>
    static string ErrorLine(string text) =>
        Clip(text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")) ?? LastLine(text));

    static string Clip(string line) => line.Length <= 200 ? line : line[..200] + "…";
}

/// <summary>Runs untrusted Python programs.</summary>
public interface ICodeRunner : IAsyncDisposable
{
    /// <summary>Runs one program to completion (or to a limit). Never throws for what the program does.</summary>
    Task<ExecutionResult> RunAsync(string code, CancellationToken cancellation = default);
}

/// <summary>The sandbox cannot run here; the message says what to install or configure.</summary>
public sealed class SandboxUnavailableException(string message) : Exception(message);
