using System.Text.RegularExpressions;

namespace RolloutCluster.Tests;

/// <summary>Reading runs' metrics.jsonl for comparisons between runs that must agree.</summary>
public static partial class MetricsFiles
{
    /// <summary>Every line of a run's metrics with the fields that measure time or placement removed: what two runs with one seed must share.</summary>
    public static List<string> Deterministic(string runDirectory) =>
        File.ReadLines(Path.Combine(runDirectory, "metrics.jsonl")).Select(line => Timing().Replace(line, "")).ToList();

    /// <summary>A line without its dispatched and failed group counts (which differ once a run lost work to a crash and redid it).</summary>
    public static string WithoutLostGroups(string line) => LostGroups().Replace(line, "");

    [GeneratedRegex("\"(elapsed_s|timing/[a-z_]+|perf/[a-z_]+|eval/seconds|eval/generator/[^\"]+)\":[-0-9.eE+]+,?")]
    private static partial Regex Timing();

    [GeneratedRegex("\"groups/(dispatched|failed)\":[0-9.]+,?")]
    private static partial Regex LostGroups();
}
