using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// runs/&lt;job&gt;/metrics.jsonl: one JSON object per step or evaluation, flushed as written so a
/// watcher (or a crash) sees every completed step.
/// </summary>
public sealed class MetricsLog(string path) : IDisposable
{
    readonly StreamWriter _writer = new(path, append: true, new UTF8Encoding(false)) { AutoFlush = true };

    public string Path => path;

    public void Write(string kind, string stage, int step, double elapsedSeconds, IReadOnlyDictionary<string, double> metrics)
    {
        var line = new StringBuilder();
        line.Append("{\"kind\":").Append(JsonSerializer.Serialize(kind))
            .Append(",\"stage\":").Append(JsonSerializer.Serialize(stage))
            .Append(",\"step\":").Append(step.ToString(CultureInfo.InvariantCulture))
            .Append(",\"elapsed_s\":").Append(Math.Round(elapsedSeconds, 3).ToString("R", CultureInfo.InvariantCulture));
        foreach (var (key, value) in metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            line.Append(',').Append(JsonSerializer.Serialize(key)).Append(':')
                .Append(double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : JsonSerializer.Serialize(value.ToString(CultureInfo.InvariantCulture)));
        }
        _writer.WriteLine(line.Append('}').ToString());
    }

    /// <summary>Reads a metrics file back: kind, stage, step and the numeric fields of each line.</summary>
    public static IReadOnlyList<(string Kind, string Stage, int Step, Dictionary<string, double> Values)> Read(string path)
    {
        var rows = new List<(string, string, int, Dictionary<string, double>)>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var p in r.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Number) values[p.Name] = p.Value.GetDouble();
            rows.Add((r.GetProperty("kind").GetString()!, r.GetProperty("stage").GetString()!, r.GetProperty("step").GetInt32(), values));
        }
        return rows;
    }

    public void Dispose() => _writer.Dispose();
}
