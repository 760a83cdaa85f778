using System.Net;
using System.Net.Sockets;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Tests.Rewards;

/// <summary>
/// Hostile programs as code completions: each defines solve(), whose test passes only if the attack
/// worked. Each must score 0 with a reason, and the sandbox must be healthy afterwards: a correct
/// program scores 1 and every lane holds only its own three processes again.
/// </summary>
[Collection("sandbox")]
public sealed class HostileProgramTests(SandboxFixture fixture)
{
    const string Escaped = "def check(f):\n    assert f() == 'escaped'\n";

    async Task<RewardResult> Score(string completion, string tests = Escaped)
    {
        var reward = new CodeReward(fixture.Sandbox);
        return await reward.ScoreAsync(new RewardInput(completion, Tests: tests, EntryPoint: "solve"));
    }

    async Task AssertContained(string completion, params string[] reasonContains)
    {
        var result = await Score(completion);
        Assert.Equal(0, result.Value);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        Assert.True(reasonContains.Any(r => result.Reason.Contains(r, StringComparison.OrdinalIgnoreCase)),
            $"reason '{result.Reason}' mentions none of: {string.Join(" | ", reasonContains)}");
        await AssertHealthy();
    }

    async Task AssertHealthy()
    {
        var good = await Score("def solve():\n    return 'escaped'\n");
        Assert.Equal(1, good.Value);
        foreach (var lane in fixture.Sandbox.LaneProcesses()) Assert.Equal(3, lane.Count);   // bwrap, its init, the worker
    }

    [Fact]
    public Task A_fork_bomb_hits_the_process_limit() =>
        AssertContained("import os\ndef solve():\n    while True:\n        os.fork()\n", "Resource temporarily unavailable", "BlockingIOError", "killed");

    [Fact]
    public Task A_memory_hog_hits_the_memory_limit() =>
        AssertContained("def solve():\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 * 1024 * 1024))\n", "MemoryError", "signal 9");

    [Fact]
    public Task An_infinite_loop_hits_the_cpu_limit() =>
        AssertContained("def solve():\n    while True:\n        pass\n", "CPU-time limit");

    [Fact]
    public Task Sleeping_forever_hits_the_wall_clock() =>
        AssertContained("import time\ndef solve():\n    time.sleep(10**6)\n", "wall-clock limit");

    [Fact]
    public async Task A_daemon_that_double_forks_does_not_outlive_the_run()
    {
        var marker = $"{Random.Shared.Next(100000, 999999)}.4242";
        await AssertContained($"""
            import os
            def solve():
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        os.execv('/usr/bin/sleep', ['sleep', '{marker}'])
                    os._exit(0)
                return 'daemon left behind'
            """, "AssertionError");
        await Task.Delay(100);
        var survivors = Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _))
            .Where(d => { try { return File.ReadAllText(Path.Combine(d, "cmdline")).Contains(marker, StringComparison.Ordinal); } catch (IOException) { return false; } })
            .ToList();
        Assert.Empty(survivors);
    }

    [Fact]
    public async Task A_socket_cannot_reach_a_listener_on_the_host_loopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await AssertContained($"""
            import socket
            def solve():
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.connect(('127.0.0.1', {port}))
                return 'escaped'
            """, "PermissionError", "Operation not permitted");
        Assert.False(listener.Pending(), "the sandbox reached the host's listener");
    }

    [Theory]
    [InlineData("/etc/shadow")]
    [InlineData("/root/.ssh/authorized_keys")]
    [InlineData("/etc/passwd")]
    public Task Host_files_are_not_visible(string path) =>
        AssertContained($"def solve():\n    open('{path}').read()\n    return 'escaped'\n", "FileNotFoundError", "No such file");

    [Fact]
    public Task The_projects_own_files_are_not_visible() =>
        AssertContained($"def solve():\n    open('{RepoPaths.Of("README.md")}').read()\n    return 'escaped'\n", "FileNotFoundError", "No such file");

    [Theory]
    [InlineData("/usr/lib/evil.py")]
    [InlineData("/evil")]
    [InlineData("/sandbox/worker.py")]
    public Task Writing_outside_scratch_is_refused(string path) =>
        AssertContained($"def solve():\n    open('{path}', 'w').write('x')\n    return 'escaped'\n", "Read-only file system", "Permission denied");

    [Fact]
    public async Task Scratch_writes_stay_in_the_sandbox()
    {
        var hostPath = Path.Combine("/tmp", $"rollout-escape-{Guid.NewGuid():N}");
        var result = await Score($"def solve():\n    open('{hostPath}', 'w').write('x')\n    return 'written'\n");
        Assert.Equal(0, result.Value);
        Assert.False(File.Exists(hostPath), "a write to the sandbox's /tmp reached the host");
        await AssertHealthy();
    }

    [Fact]
    public async Task Filling_scratch_fails_and_the_space_comes_back()
    {
        await AssertContained("""
            def solve():
                with open('fill', 'wb') as f:
                    while True:
                        f.write(b'x' * 1024 * 1024)
            """, "No space left", "File too large");
        // The next run gets its scratch space back.
        var result = await Score("def solve():\n    open('again', 'wb').write(b'x' * 3 * 1024 * 1024)\n    return 'escaped'\n");
        Assert.Equal(1, result.Value);
    }

    [Fact]
    public Task A_flood_of_output_is_cut_off() =>
        AssertContained("import sys\ndef solve():\n    for _ in range(100):\n        sys.stdout.write('x' * 1024 * 1024)\n    return 'escaped'\n", "output limit");

    [Fact]
    public async Task Killing_its_parent_costs_only_lane_restarts()
    {
        int before = fixture.Sandbox.LanesRebuilt;
        await AssertContained("import os, signal\ndef solve():\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 'escaped'\n", "killed its sandbox worker");
        Assert.Equal(before + 2, fixture.Sandbox.LanesRebuilt);   // its second chance on a fresh lane goes the same way
    }

    [Fact]
    public Task Raising_rlimits_is_refused() =>
        AssertContained("import resource\ndef solve():\n    resource.setrlimit(resource.RLIMIT_CPU, (10**6, 10**6))\n    return 'escaped'\n", "ValueError", "not allowed", "PermissionError");

    [Fact]
    public Task Subprocesses_are_as_confined_as_the_program() =>
        AssertContained("import subprocess\ndef solve():\n    out = subprocess.run(['cat', '/etc/shadow'], capture_output=True)\n    return 'escaped' if out.returncode == 0 else out.stderr.decode()\n", "AssertionError");

    [Fact]
    public Task Os_system_cannot_reach_the_network() =>
        AssertContained("import os\ndef solve():\n    return 'escaped' if os.system('exec 3<>/dev/tcp/127.0.0.1/22') == 0 else 'no'\n", "AssertionError");

    [Fact]
    public Task Ctypes_cannot_make_namespaces_or_mounts() =>
        AssertContained("""
            import ctypes
            def solve():
                libc = ctypes.CDLL(None, use_errno=True)
                unshared = libc.unshare(0x10000000)        # CLONE_NEWUSER
                mounted = libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)
                traced = libc.ptrace(16, 1, None, None)     # PTRACE_ATTACH to pid 1
                return 'escaped' if 0 in (unshared, mounted, traced) else 'refused'
            """, "AssertionError");

    [Fact]
    public async Task Exiting_early_with_status_zero_is_not_a_pass()
    {
        var result = await Score("import os\nos._exit(0)\ndef solve():\n    return 'wrong'\n");
        Assert.Equal(0, result.Value);
        Assert.Contains("before the tests finished", result.Reason);
    }

    [Fact]
    public async Task A_worker_lost_for_reasons_of_its_own_does_not_cost_a_correct_program_its_result()
    {
        await using var sandbox = await SandboxFixture.OneLaneAsync();
        Assert.Equal("42", (await sandbox.RunAsync("print(6 * 7)")).Stdout.Trim());
        // The lane's processes die under it between runs (as if the machine had killed them).
        // Each is gone before the next run starts: a process still dying then (a busy machine) failed the
        // rebuilt lane once more and made a second rebuild (seen once, with another job on the cores).
        var processes = sandbox.LaneProcesses().Single().Select(System.Diagnostics.Process.GetProcessById).ToList();
        foreach (var process in processes)
        {
            if (!process.HasExited) process.Kill();   // killing the sandbox's root takes the rest of its tree with it
        }
        foreach (var process in processes)
        {
            process.WaitForExit();
            process.Dispose();
        }
        var result = await sandbox.RunAsync("print(6 * 7)");
        Assert.Equal(ExecutionVerdict.Exited, result.Verdict);
        Assert.Equal("42", result.Stdout.Trim());
        Assert.Equal(1, sandbox.LanesRebuilt);
    }

    [Fact]
    public async Task Two_sandboxes_of_one_process_keep_their_lanes_apart()
    {
        var first = await SandboxFixture.OneLaneAsync();
        await using var second = await SandboxFixture.OneLaneAsync();
        Assert.Empty(first.LaneProcesses().Single().Intersect(second.LaneProcesses().Single()));
        await first.DisposeAsync();   // removes its own cgroup, not the other's
        var result = await second.RunAsync("print(6 * 7)");
        Assert.Equal("42", result.Stdout.Trim());
        Assert.Equal(0, second.LanesRebuilt);
    }
}
