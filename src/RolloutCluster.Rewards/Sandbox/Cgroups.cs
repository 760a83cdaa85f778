namespace RolloutCluster.Rewards.Sandbox;

/// <summary>
/// Memory and process-count limits for a group of processes, on cgroup v1 (memory and pids
/// hierarchies, as on this project's machines) or v2 (one unified hierarchy, as on most production
/// nodes). Processes join by writing their pid to each of <see cref="ProcsFiles"/>.
/// </summary>
public sealed class Cgroup
{
    const string Root = "/sys/fs/cgroup";
    const string Parent = "rollout-sandbox";
    readonly string[] _dirs;
    readonly bool _v2;

    Cgroup(string[] dirs, bool v2)
    {
        _dirs = dirs;
        _v2 = v2;
    }

    /// <summary>Files a process writes its pid to, to join every hierarchy of this group.</summary>
    public IReadOnlyList<string> ProcsFiles => _dirs.Select(d => Path.Combine(d, "cgroup.procs")).ToList();

    /// <summary>"v1" or "v2", or the reason cgroups cannot be used here.</summary>
    public static (bool Usable, string Detail) Probe()
    {
        try
        {
            var probe = Create("probe-" + Environment.ProcessId, 64L << 20, 16);
            probe.Remove();
            return (true, probe._v2 ? "v2" : "v1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SandboxUnavailableException)
        {
            return (false, e.Message);
        }
    }

    /// <summary>Creates (or reuses) a group with the given limits.</summary>
    public static Cgroup Create(string name, long memoryBytes, int processes)
    {
        if (File.Exists(Path.Combine(Root, "cgroup.controllers")))
        {
            var controllers = File.ReadAllText(Path.Combine(Root, "cgroup.controllers"));
            if (!controllers.Contains("memory", StringComparison.Ordinal) || !controllers.Contains("pids", StringComparison.Ordinal))
                throw new SandboxUnavailableException($"cgroup v2 at {Root} lacks the memory or pids controller (has: {controllers.Trim()})");
            var parent = Path.Combine(Root, Parent);
            Directory.CreateDirectory(parent);
            TryWrite(Path.Combine(Root, "cgroup.subtree_control"), "+memory +pids");
            File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+memory +pids");
            var dir = Path.Combine(parent, name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "memory.max"), memoryBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            TryWrite(Path.Combine(dir, "memory.swap.max"), "0");
            File.WriteAllText(Path.Combine(dir, "pids.max"), processes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new Cgroup([dir], v2: true);
        }
        var memoryRoot = Path.Combine(Root, "memory");
        var pidsRoot = Path.Combine(Root, "pids");
        if (!Directory.Exists(memoryRoot) || !Directory.Exists(pidsRoot))
            throw new SandboxUnavailableException($"no cgroup v2 at {Root} and no v1 memory and pids hierarchies under it");
        var memory = Path.Combine(memoryRoot, Parent, name);
        var pids = Path.Combine(pidsRoot, Parent, name);
        Directory.CreateDirectory(memory);
        Directory.CreateDirectory(pids);
        File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), memoryBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        TryWrite(Path.Combine(memory, "memory.memsw.limit_in_bytes"), memoryBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(pids, "pids.max"), processes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new Cgroup([memory, pids], v2: false);
    }

    /// <summary>Pids currently in the group.</summary>
    public IReadOnlyList<int> Processes() =>
        _dirs.Take(1).SelectMany(d => File.Exists(Path.Combine(d, "cgroup.procs")) ? File.ReadAllLines(Path.Combine(d, "cgroup.procs")) : [])
            .Where(l => l.Length > 0).Select(int.Parse).ToList();

    /// <summary>Kills every process in the group and waits (briefly) until it is empty.</summary>
    public void KillAll()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            var pids = Processes();
            if (pids.Count == 0) return;
            if (_v2 && TryWrite(Path.Combine(_dirs[0], "cgroup.kill"), "1")) { Thread.Sleep(5); continue; }
            foreach (var pid in pids)
            {
                try { System.Diagnostics.Process.GetProcessById(pid).Kill(); }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
            }
            Thread.Sleep(5);
        }
    }

    /// <summary>Kills what is left and removes the group; removal is asynchronous in the kernel, so it is retried.</summary>
    public void Remove()
    {
        KillAll();
        foreach (var dir in _dirs)
        {
            for (int attempt = 0; attempt < 100 && Directory.Exists(dir); attempt++)
            {
                try { Directory.Delete(dir); }
                catch (IOException) { Thread.Sleep(10); }
            }
        }
    }

    static bool TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
