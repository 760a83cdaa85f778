using System.Text.Json.Nodes;
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

    /// <summary>Fails naming the first line that differs and, field by field, what differs in it (a whole-line diff hides which metric moved).</summary>
    public static void AssertSame(IEnumerable<string> expected, IEnumerable<string> actual)
    {
        var (a, b) = (expected.ToList(), actual.ToList());
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            if (a[i] == b[i]) continue;
            var (x, y) = (JsonNode.Parse(a[i])!.AsObject(), JsonNode.Parse(b[i])!.AsObject());
            var fields = x.Select(p => p.Key).Union(y.Select(p => p.Key))
                .Where(k => x[k]?.ToJsonString() != y[k]?.ToJsonString())
                .Select(k => $"{k}: {x[k]?.ToJsonString() ?? "absent"} vs {y[k]?.ToJsonString() ?? "absent"}");
            Assert.Fail($"metrics line {i + 1} differs ({x["kind"]} {x["stage"]} step {x["step"]}): {string.Join("; ", fields)}");
        }
        Assert.True(a.Count == b.Count, $"{a.Count} metrics lines expected, {b.Count} written");
    }

    [GeneratedRegex("\"(elapsed_s|timing/[a-z_]+|perf/[a-z_]+|eval/seconds|eval/generator/[^\"]+)\":[-0-9.eE+]+,?")]
    private static partial Regex Timing();

    [GeneratedRegex("\"groups/(dispatched|failed)\":[0-9.]+,?")]
    private static partial Regex LostGroups();
}
