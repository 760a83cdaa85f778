using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RolloutCluster.Rewards.Sandbox;

/// <summary>
/// One sandbox with a warm Python worker: bubblewrap with every namespace unshared (no network),
/// the system read-only, a private size-capped tmpfs as the only writable place, uid nobody, no
/// capabilities, a cleared environment and the seccomp filter; the whole lane in a cgroup with
/// memory and process limits. Each program runs in a child the worker forks, under rlimits and a
/// deadline, after which every other process in the lane is killed. A lane whose worker dies or
/// stops answering is killed whole (bwrap takes its tree with it) and must be replaced.
/// </summary>
public sealed class SandboxLane : IAsyncDisposable
{
    readonly SandboxOptions _options;
    readonly Process _process;
    readonly Cgroup? _cgroup;
    readonly Lock _stderrLock = new();
    readonly System.Text.StringBuilder _stderr = new();

    SandboxLane(SandboxOptions options, Process process, Cgroup? cgroup)
    {
        _options = options;
        _process = process;
        _cgroup = cgroup;
    }

    /// <summary>False once the worker died or was killed; the lane cannot be used again.</summary>
    public bool Alive => !Dead && !_process.HasExited;

    bool Dead { get; set; }

    /// <summary>Processes in the lane's cgroup (bwrap, its init and the worker when idle), for health checks.</summary>
    public IReadOnlyList<int> Processes => _cgroup?.Processes() ?? [];

    /// <summary>Starts a lane and waits for its worker to report ready.</summary>
    public static async Task<SandboxLane> StartAsync(SandboxOptions options, SandboxFiles files, string bwrap, string name, CancellationToken cancellation)
    {
        var cgroup = options.Isolation == SandboxIsolation.Full ? Cgroup.Create(name, options.LaneMemoryBytes, options.LaneProcesses) : null;
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The shell joins the cgroup, then becomes bwrap with the seccomp program on descriptor 9.
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("for f in $ROLLOUT_CGROUP_PROCS; do echo $$ > \"$f\" || exit 97; done; exec \"$0\" \"$@\" 9< \"$ROLLOUT_SECCOMP\"");
        info.ArgumentList.Add(bwrap);
        foreach (var arg in BwrapArguments(options, files)) info.ArgumentList.Add(arg);
        info.Environment.Clear();
        info.Environment["ROLLOUT_CGROUP_PROCS"] = string.Join(' ', cgroup?.ProcsFiles ?? []);
        info.Environment["ROLLOUT_SECCOMP"] = files.SeccompProgram;
        var process = Process.Start(info) ?? throw new SandboxUnavailableException("could not start /bin/sh for the sandbox");
        var lane = new SandboxLane(options, process, cgroup);
        process.ErrorDataReceived += (_, e) => lane.AppendStderr(e.Data);
        process.BeginErrorReadLine();
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        startup.CancelAfter(TimeSpan.FromSeconds(20));
        string? ready = null;
        try { ready = await process.StandardOutput.ReadLineAsync(startup.Token); }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { }
        if (ready is null || !ready.Contains("\"ready\"", StringComparison.Ordinal))
        {
            var why = lane.StderrText();
            await lane.DisposeAsync();
            throw new SandboxUnavailableException($"sandbox worker did not start ({(ready is null ? "no answer" : ready)}): {why}");
        }
        return lane;
    }

    static IEnumerable<string> BwrapArguments(SandboxOptions o, SandboxFiles files) =>
    [
        "--unshare-all", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--proc", "/proc", "--dev", "/dev",
        "--size", o.ScratchBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp",
        "--ro-bind", files.WorkerScript, "/sandbox/worker.py",
        "--remount-ro", "/",
        "--clearenv", "--setenv", "PATH", "/usr/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
        "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL",
        "--seccomp", "9",
        "--chdir", "/tmp",
        o.Python, "-I", "-S", "/sandbox/worker.py",
    ];

    /// <summary>Runs one program. A dead or unresponsive worker yields WorkerDied and leaves the lane dead.</summary>
    public async Task<ExecutionResult> RunAsync(string code, CancellationToken cancellation)
    {
        if (!Alive) return new ExecutionResult(ExecutionVerdict.WorkerDied, -1, 0, "", "lane is dead", 0);
        var request = new JsonObject
        {
            ["code"] = code,
            ["cpu_s"] = Math.Max(1, (int)Math.Ceiling(_options.CpuSeconds)),
            ["wall_s"] = _options.WallSeconds,
            ["fsize"] = _options.FileSizeBytes,
            ["as_bytes"] = _options.AddressSpaceBytes,
            ["output_bytes"] = _options.OutputBytes,
        }.ToJsonString();
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // The worker enforces the wall clock itself; this outer deadline only catches a worker that hangs.
        deadline.CancelAfter(TimeSpan.FromSeconds(_options.WallSeconds + 5));
        string? line = null;
        try
        {
            await _process.StandardInput.WriteLineAsync(request.AsMemory(), deadline.Token);
            await _process.StandardInput.FlushAsync(deadline.Token);
            line = await _process.StandardOutput.ReadLineAsync(deadline.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            if (cancellation.IsCancellationRequested) { await KillAsync(); throw; }
        }
        if (line is null)
        {
            await KillAsync();
            return new ExecutionResult(ExecutionVerdict.WorkerDied, -1, 0, "", StderrText(), clock.Elapsed.TotalMilliseconds);
        }
        return Parse(line);
    }

    static ExecutionResult Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        var verdict = r.GetProperty("verdict").GetString() switch
        {
            "exited" => ExecutionVerdict.Exited,
            "timeout" => ExecutionVerdict.Timeout,
            "cpu_limit" => ExecutionVerdict.CpuLimit,
            "output_limit" => ExecutionVerdict.OutputLimit,
            "signal" => ExecutionVerdict.Signal,
            _ => ExecutionVerdict.SandboxError,
        };
        return new ExecutionResult(verdict, r.GetProperty("exit_code").GetInt32(), r.GetProperty("signal").GetInt32(),
            r.GetProperty("stdout").GetString() ?? "", r.GetProperty("stderr").GetString() ?? "", r.GetProperty("ms").GetDouble());
    }

    void AppendStderr(string? data)
    {
        if (data is null) return;
        lock (_stderrLock)
        {
            if (_stderr.Length < 8192) _stderr.AppendLine(data);
        }
    }

    string StderrText()
    {
        lock (_stderrLock) return _stderr.ToString().Trim();
    }

    async Task KillAsync()
    {
        Dead = true;
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _cgroup?.KillAll();
        try { await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (TimeoutException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _cgroup?.Remove();
        _process.Dispose();
    }
}
