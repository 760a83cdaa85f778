using System.Text.Json;
using System.Text.Json.Nodes;

namespace RolloutCluster.Data;

/// <summary>The rows a JSONL file yielded, with the count of bad lines skipped (only when skipping was asked for).</summary>
public sealed record JsonlRows<T>(IReadOnlyList<(int Line, JsonObject Raw, T Item)> Rows, int Skipped, IReadOnlyList<string> Errors);

/// <summary>
/// Reads JSONL with a mapper per row. A bad line (not JSON, not an object, a missing or mistyped
/// field) is an error naming the file and line; with skipBadLines it is counted and reported instead,
/// and the rest of the file is kept.
/// </summary>
public static class JsonlReader
{
    public static JsonlRows<T> Read<T>(string path, Func<JsonObject, int, T> map, bool skipBadLines = false)
    {
        if (!File.Exists(path)) throw new DatasetException($"{path}: dataset file not found");
        var rows = new List<(int, JsonObject, T)>();
        var errors = new List<string>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            try
            {
                var node = JsonNode.Parse(text) as JsonObject ?? throw new DatasetException("expected a JSON object");
                rows.Add((line, node, map(node, line)));
            }
            catch (Exception e) when (e is JsonException or DatasetException or InvalidOperationException or FormatException)
            {
                var message = $"{path}:{line}: {(e is JsonException ? "not valid JSON: " : "")}{e.Message}";
                if (!skipBadLines) throw new DatasetException(message);
                errors.Add(message);
            }
        }
        if (rows.Count == 0) throw new DatasetException($"{path}: no usable rows{(errors.Count > 0 ? $" ({errors.Count} bad)" : "")}");
        return new JsonlRows<T>(rows, errors.Count, errors);
    }

    /// <summary>A required string field (numbers are accepted and kept as written).</summary>
    public static string Text(JsonObject row, string field) => row[field] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        null => throw new DatasetException($"missing field '{field}'"),
        var other => throw new DatasetException($"field '{field}' must be a string, found {other.GetValueKind()}"),
    };

    /// <summary>An optional string field.</summary>
    public static string? OptionalText(JsonObject row, string field) => row[field] is null ? null : Text(row, field);

    /// <summary>An optional list of strings.</summary>
    public static IReadOnlyList<string>? OptionalList(JsonObject row, string field) => row[field] switch
    {
        null => null,
        JsonArray a => a.Select((x, i) => x is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw new DatasetException($"field '{field}[{i}]' must be a string")).ToList(),
        var other => throw new DatasetException($"field '{field}' must be a list of strings, found {other.GetValueKind()}"),
    };
}
