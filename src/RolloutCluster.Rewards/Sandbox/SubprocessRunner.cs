using System.Diagnostics;
using System.Globalization;

namespace RolloutCluster.Rewards.Sandbox;

/// <summary>
/// Isolation 'none': each program is a fresh `python3 -I -S` (under ulimit for CPU, file size and
/// address space unless limits are off), with the wall-clock deadline and the output cap enforced
/// while reading. No namespaces, no seccomp, no cgroup: for trusted code, and as the baseline the
/// sandbox is measured against.
/// </summary>
public sealed class SubprocessRunner(SandboxOptions options, bool limits = true) : ICodeRunner
{
    public async Task<ExecutionResult> RunAsync(string code, CancellationToken cancellation = default)
    {
        var directory = Directory.CreateTempSubdirectory("rollout-run-");
        var info = limits
            ? new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", Ulimits() + "exec \"$0\" -I -S -", options.Python } }
            : new ProcessStartInfo(options.Python) { ArgumentList = { "-I", "-S", "-" } };
        info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.WorkingDirectory = directory.FullName;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        stop.CancelAfter(TimeSpan.FromSeconds(options.WallSeconds));
        var stdout = new CappedReader(process.StandardOutput.BaseStream, options.OutputBytes, stop);
        var stderr = new CappedReader(process.StandardError.BaseStream, options.OutputBytes, stop);
        try
        {
            try
            {
                await process.StandardInput.WriteAsync(code.AsMemory(), stop.Token);
                process.StandardInput.Close();
            }
            catch (IOException) { } // the program exited without reading all of its source (it cannot, but a limit may kill it)
            try { await Task.WhenAll(process.WaitForExitAsync(stop.Token), stdout.Done, stderr.Done); }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { }
            bool over = stdout.Over || stderr.Over;
            bool late = !process.HasExited;
            if (late || over) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellation.ThrowIfCancellationRequested();
            int exit = process.ExitCode;
            var verdict = over ? ExecutionVerdict.OutputLimit
                : late ? ExecutionVerdict.Timeout
                : exit > 128 ? (exit - 128 is 9 or 24 && clock.Elapsed.TotalSeconds >= options.CpuSeconds * 0.9 ? ExecutionVerdict.CpuLimit : ExecutionVerdict.Signal)
                : ExecutionVerdict.Exited;
            return new ExecutionResult(verdict, verdict == ExecutionVerdict.Exited ? exit : -1, exit > 128 ? exit - 128 : 0,
                stdout.Text, stderr.Text, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            try { directory.Delete(recursive: true); }
            catch (IOException) { }
        }
    }

    string Ulimits() => string.Create(CultureInfo.InvariantCulture,
        $"ulimit -t {Math.Max(1, (int)Math.Ceiling(options.CpuSeconds))}; ulimit -f {options.FileSizeBytes / 512}; ulimit -v {options.AddressSpaceBytes / 1024}; ulimit -c 0; ");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Reads a stream to its end keeping at most cap bytes; past the cap it cancels stop so the run is killed.</summary>
    sealed class CappedReader
    {
        readonly MemoryStream _kept = new();

        public CappedReader(Stream stream, long cap, CancellationTokenSource stop) => Done = ReadAsync(stream, cap, stop);

        public Task Done { get; }
        public bool Over { get; private set; }
        public string Text => System.Text.Encoding.UTF8.GetString(_kept.ToArray());

        async Task ReadAsync(Stream stream, long cap, CancellationTokenSource stop)
        {
            var buffer = new byte[65536];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer, stop.Token)) > 0)
                {
                    int room = (int)Math.Max(0, cap - _kept.Length);
                    _kept.Write(buffer, 0, Math.Min(room, n));
                    if (n > room)
                    {
                        Over = true;
                        await stop.CancelAsync();
                        return;
                    }
                }
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
        }
    }
}
