namespace RolloutCluster.Tests;

/// <summary>Locates files of the repository from the test binaries.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RolloutCluster.sln"))) return dir.FullName;
        throw new InvalidOperationException("RolloutCluster.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);
}
