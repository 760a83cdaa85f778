using System.Diagnostics;

namespace RolloutCluster.Tests.Deployment;

/// <summary>
/// A real multi-process cluster for tests, through cluster/local-cluster.sh: redis-server and N
/// `rollout silo` processes (the CLI this test run built), each with its pid and ports on record.
/// </summary>
public sealed class LocalCluster : IDisposable
{
    public string State { get; }
    public string Runs => Path.Combine(State, "runs");
    public string Connection => File.ReadAllText(Path.Combine(State, "connection")).Trim();

    LocalCluster(string state) => State = state;

    /// <summary>`dotnet rollout.dll`, built alongside these tests (the test project references the CLI).</summary>
    public static string[] Cli
    {
        get
        {
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;   // bin/<Configuration>/net10.0/
            var dll = RepoPaths.Of("src", "RolloutCluster.Cli", "bin", configuration, "net10.0", "rollout.dll");
            if (!File.Exists(dll)) throw new InvalidOperationException($"the CLI is not built at {dll}");
            return ["dotnet", dll];
        }
    }

    public static LocalCluster Up(int silos)
    {
        var cluster = new LocalCluster(TinyModels.TempDir());
        var (code, stdout, stderr) = cluster.Script(TimeSpan.FromMinutes(4), "up", silos.ToString());
        if (code != 0) throw new InvalidOperationException($"local-cluster.sh up {silos} failed ({code}):\n{stdout}\n{stderr}");
        return cluster;
    }

    public (int Code, string Stdout, string Stderr) Script(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        info.ArgumentList.Add(RepoPaths.Of("cluster", "local-cluster.sh"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["ROLLOUT_CLUSTER_DIR"] = State;
        info.Environment["ROLLOUT_RUNS"] = Runs;
        info.Environment["ROLLOUT_CLI"] = string.Join(' ', Cli);
        info.Environment["ROLLOUT_DEVICES"] = "cpu";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"local-cluster.sh {string.Join(' ', args)} did not finish in {timeout}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Silo number → (pid, silo port).</summary>
    public IReadOnlyDictionary<int, (int Pid, int SiloPort)> Silos =>
        Directory.GetFiles(State, "silo-*.pid").ToDictionary(
            f => int.Parse(Path.GetFileNameWithoutExtension(f)["silo-".Length..]),
            f => (int.Parse(File.ReadAllText(f).Trim()), int.Parse(File.ReadAllText(Path.ChangeExtension(f, ".ports")).Split(' ')[0])));

    /// <summary>SIGKILL: the silo gets no chance to leave the cluster cleanly.</summary>
    public static void Kill(int pid)
    {
        try { Process.GetProcessById(pid).Kill(); }
        catch (ArgumentException) { }   // already gone
    }

    public string Log(int silo) => File.ReadAllText(Path.Combine(State, $"silo-{silo}.log"));

    public void Dispose() => Script(TimeSpan.FromMinutes(1), "down");
}
