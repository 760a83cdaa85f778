using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace RolloutCluster.Rewards.Sandbox;

/// <summary>
/// A pool of <see cref="SandboxLane"/>s: runs programs in parallel, one per lane, and replaces a lane
/// whose worker died. Refuses to start where bubblewrap or cgroups are missing unless the options ask
/// for a weaker isolation, which is then logged at every start.
/// </summary>
public sealed partial class CodeSandbox : ICodeRunner
{
    readonly SandboxOptions _options;
    readonly SandboxFiles _files;
    readonly string _bwrap;
    readonly ILogger _logger;
    readonly Channel<SandboxLane> _idle = Channel.CreateUnbounded<SandboxLane>();
    readonly List<SandboxLane> _all = [];
    readonly Lock _lock = new();
    // Process-wide: lane names are cgroup names, and two sandboxes of one process (a silo's and a CLI
    // command's, or two tests') once both made "lane-PID-1": one's disposal killed the other's worker.
    static int _nextLane;
    int _rebuilt;

    CodeSandbox(SandboxOptions options, SandboxFiles files, string bwrap, ILogger logger)
    {
        _options = options;
        _files = files;
        _bwrap = bwrap;
        _logger = logger;
    }

    /// <summary>Lanes rebuilt after a worker died.</summary>
    public int LanesRebuilt => _rebuilt;

    /// <summary>
    /// A runner for the options' isolation: Full and NoCgroups start sandbox lanes; None runs plain
    /// subprocesses. Throws <see cref="SandboxUnavailableException"/> naming what to install.
    /// </summary>
    public static async Task<ICodeRunner> CreateAsync(SandboxOptions options, ILogger logger, CancellationToken cancellation = default)
    {
        if (options.Validate() is { } problem) throw new ArgumentException(problem);
        if (!File.Exists(options.Python))
            throw new SandboxUnavailableException($"{options.Python} not found: install Python 3 (apt-get install -y python3)");
        if (options.Isolation == SandboxIsolation.None)
        {
            LogUnsandboxed(logger);
            return new SubprocessRunner(options);
        }
        var bwrap = (options.BubblewrapPath is { } configured ? (File.Exists(configured) ? configured : null) : FindBubblewrap()) ?? throw new SandboxUnavailableException(
            "bubblewrap is not installed: apt-get install -y bubblewrap (or set the sandbox isolation to 'none' to run code without isolation, for trusted code only)");
        if (options.Isolation == SandboxIsolation.Full)
        {
            var (usable, detail) = Cgroup.Probe();
            if (!usable)
                throw new SandboxUnavailableException($"cgroups are not usable for memory and process limits ({detail}): run as root with cgroup v1 memory+pids or v2, or set the sandbox isolation to 'no-cgroups'");
        }
        else LogNoCgroups(logger);
        var sandbox = new CodeSandbox(options, new SandboxFiles(), bwrap, logger);
        try
        {
            for (int i = 0; i < options.Lanes; i++) await sandbox.AddLaneAsync(cancellation);
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }
        LogStarted(logger, options.Lanes, options.Isolation);
        return sandbox;
    }

    static string? FindBubblewrap() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Append("/usr/bin")
            .Select(dir => Path.Combine(dir, "bwrap")).FirstOrDefault(File.Exists);

    async Task AddLaneAsync(CancellationToken cancellation)
    {
        var name = $"lane-{Environment.ProcessId}-{Interlocked.Increment(ref _nextLane)}";
        var lane = await SandboxLane.StartAsync(_options, _files, _bwrap, name, cancellation);
        lock (_lock) _all.Add(lane);
        _idle.Writer.TryWrite(lane);
    }

    /// <summary>
    /// Runs a program on an idle lane. A worker that dies may be the program's doing (it killed its
    /// parent) or the lane's own failure, which must not cost a correct program its reward: the program
    /// gets one more run on a fresh lane, and only if it takes that worker down too is the result
    /// WorkerDied.
    /// </summary>
    public async Task<ExecutionResult> RunAsync(string code, CancellationToken cancellation = default)
    {
        var result = await RunOnceAsync(code, cancellation);
        return result.Verdict == ExecutionVerdict.WorkerDied ? await RunOnceAsync(code, cancellation) : result;
    }

    async Task<ExecutionResult> RunOnceAsync(string code, CancellationToken cancellation)
    {
        var lane = await _idle.Reader.ReadAsync(cancellation);
        ExecutionResult result;
        try
        {
            result = await lane.RunAsync(code, cancellation);
        }
        finally
        {
            if (lane.Alive) _idle.Writer.TryWrite(lane);
        }
        if (!lane.Alive)
        {
            // The program took its worker down (killed its parent, say); it costs a lane restart, nothing more.
            LogLaneRebuilt(_logger, result.Verdict, result.Stderr.Length > 500 ? result.Stderr[^500..] : result.Stderr);
            lock (_lock) _all.Remove(lane);
            await lane.DisposeAsync();
            Interlocked.Increment(ref _rebuilt);
            await ReplaceLaneAsync();
        }
        return result;
    }

    /// <summary>
    /// Starts the lane that replaces a lost one. A start can fail for a moment (the lost worker's
    /// processes still being torn down on a busy machine gave a worker that exited at once): it is tried
    /// again, so one program's hostility never leaves the sandbox a lane short or fails the next caller.
    /// </summary>
    async Task ReplaceLaneAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await AddLaneAsync(CancellationToken.None);
                return;
            }
            catch (SandboxUnavailableException e) when (attempt < 5)
            {
                LogLaneRestartFailed(_logger, attempt, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
        }
    }

    /// <summary>Pids of every lane's cgroup (tests check that nothing outlives a run).</summary>
    public IReadOnlyList<IReadOnlyList<int>> LaneProcesses()
    {
        lock (_lock) return _all.Select(l => l.Processes).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        _idle.Writer.TryComplete();
        List<SandboxLane> lanes;
        lock (_lock) lanes = [.. _all];
        foreach (var lane in lanes) await lane.DisposeAsync();
        _files.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Code sandbox isolation is 'none': programs run as plain subprocesses with rlimits only; they can reach the network and the file system. Use only for trusted code.")]
    static partial void LogUnsandboxed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Code sandbox isolation is 'no-cgroups': bubblewrap and seccomp without cgroup memory and process limits; a fork bomb is not contained.")]
    static partial void LogNoCgroups(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Code sandbox started: {Lanes} lane(s), isolation {Isolation}")]
    static partial void LogStarted(ILogger logger, int lanes, SandboxIsolation isolation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox lane restart failed (attempt {Attempt}), trying again: {Reason}")]
    static partial void LogLaneRestartFailed(ILogger logger, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox lane lost its worker ({Verdict}); rebuilding it. Worker stderr: {Stderr}")]
    static partial void LogLaneRebuilt(ILogger logger, ExecutionVerdict verdict, string stderr);
}
