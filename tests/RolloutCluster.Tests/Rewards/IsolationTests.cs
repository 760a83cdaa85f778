using Microsoft.Extensions.Logging;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Tests.Rewards;

public sealed class IsolationTests
{
    sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public async Task Without_bubblewrap_the_sandbox_refuses_and_says_what_to_install()
    {
        var e = await Assert.ThrowsAsync<SandboxUnavailableException>(() =>
            CodeSandbox.CreateAsync(new SandboxOptions { BubblewrapPath = "/nonexistent/bwrap", Lanes = 1 }, new RecordingLogger()));
        Assert.Contains("apt-get install -y bubblewrap", e.Message);
        Assert.Contains("'none'", e.Message);
    }

    [Fact]
    public async Task Weaker_isolation_is_logged_at_every_start()
    {
        var logger = new RecordingLogger();
        for (int i = 0; i < 2; i++)
        {
            await using var runner = await CodeSandbox.CreateAsync(new SandboxOptions { Isolation = SandboxIsolation.None, Lanes = 1 }, logger);
            Assert.IsType<SubprocessRunner>(runner);
            Assert.Contains("42", (await runner.RunAsync("print(6 * 7)")).Stdout);
        }
        Assert.Equal(2, logger.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("isolation is 'none'")));
    }

    [Fact]
    public async Task Unsandboxed_runs_still_have_deadlines_and_output_caps()
    {
        await using var runner = new SubprocessRunner(new SandboxOptions { WallSeconds = 1, CpuSeconds = 1, OutputBytes = 4096 });
        Assert.Equal(ExecutionVerdict.OutputLimit, (await runner.RunAsync("print('x' * 10**7)")).Verdict);
        var slow = await runner.RunAsync("import time; time.sleep(30)");
        Assert.Equal(ExecutionVerdict.Timeout, slow.Verdict);
        Assert.True(slow.Milliseconds < 5000);
        Assert.True((await runner.RunAsync("import sys; sys.exit(3)")).ExitCode == 3);
    }

    [Fact]
    public void The_seccomp_program_is_well_formed_classic_bpf()
    {
        var program = SeccompFilter.Build();
        Assert.Equal(0, program.Length % 8);
        Assert.InRange(program.Length / 8, 10, 4096);
        // Every jump stays inside the program.
        for (int i = 0; i < program.Length / 8; i++)
        {
            ushort code = BitConverter.ToUInt16(program, i * 8);
            if ((code & 0x07) == 0x05) Assert.True(i + 1 + Math.Max(program[i * 8 + 2], program[i * 8 + 3]) < program.Length / 8, $"instruction {i} jumps out");
        }
    }
}
