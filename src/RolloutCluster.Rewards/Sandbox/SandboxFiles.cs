namespace RolloutCluster.Rewards.Sandbox;

/// <summary>
/// Files every lane shares, written once per sandbox into a private directory: the worker script
/// (bound read-only into each lane) and the seccomp program (opened as file descriptor 9 for bwrap).
/// </summary>
public sealed class SandboxFiles : IDisposable
{
    public SandboxFiles()
    {
        if (!OperatingSystem.IsLinux()) throw new SandboxUnavailableException("the code sandbox needs Linux (bubblewrap, seccomp, cgroups)");
        Directory = Path.Combine(Path.GetTempPath(), $"rollout-sandbox-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        using (var resource = typeof(SandboxFiles).Assembly.GetManifestResourceStream("RolloutCluster.Rewards.Sandbox.server.py")
            ?? throw new InvalidOperationException("sandbox worker script is missing from the assembly"))
        using (var file = File.Create(WorkerScript))
        {
            resource.CopyTo(file);
        }
        File.WriteAllBytes(SeccompProgram, SeccompFilter.Build());
        // The worker runs as nobody inside the sandbox and must read its script.
        File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        File.SetUnixFileMode(WorkerScript, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    public string Directory { get; }
    public string WorkerScript => Path.Combine(Directory, "server.py");
    public string SeccompProgram => Path.Combine(Directory, "seccomp.bpf");

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
