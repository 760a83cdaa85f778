using System.Text.Json;
using System.Text.Json.Nodes;

namespace RolloutCluster.Data.Datasets;

/// <summary>
/// Reads dataset files row by row: JSONL (one object a line), JSON (an array of objects, or an object
/// whose one array-valued field holds them) and Parquet (what Hugging Face datasets ship). A bad row
/// (not JSON, not an object, a missing or mistyped field) is an error naming the file and line or row;
/// with skipBadRows it is counted and reported instead, and the rest of the file is kept.
/// </summary>
public static class DatasetFile
{
    public static readonly IReadOnlyList<string> Extensions = [".jsonl", ".json", ".parquet"];

    /// <summary>Reads and maps every row.</summary>
    public static DatasetRows<T> Read<T>(string path, Func<JsonObject, int, T> map, bool skipBadRows = false)
    {
        var rows = new List<(RawRow, T)>();
        var errors = new List<string>();
        foreach (var (raw, error) in RawRows(path))
        {
            string? message = error;
            if (raw is not null)
            {
                try { rows.Add((raw, map(raw.Row, raw.Index))); }
                catch (Exception e) when (e is DatasetException or InvalidOperationException or FormatException) { message = $"{raw.Location}: {e.Message}"; }
            }
            if (message is null) continue;
            if (!skipBadRows) throw new DatasetException(message);
            errors.Add(message);
        }
        if (rows.Count == 0) throw new DatasetException($"{path}: no usable rows{(errors.Count > 0 ? $" ({errors.Count} bad; first: {errors[0]})" : "")}");
        return new DatasetRows<T>(rows, errors.Count, errors);
    }

    /// <summary>Each row, or for a row that cannot be read, the error naming it.</summary>
    static IEnumerable<(RawRow? Row, string? Error)> RawRows(string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"{path}: dataset file not found");
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".jsonl" => JsonLines(path),
            ".json" => JsonArray(path),
            ".parquet" => ParquetRows.Read(path),
            _ => throw new DatasetException($"{path}: unknown dataset file type '{extension}'; known: {string.Join(", ", Extensions)}"),
        };
    }

    static IEnumerable<(RawRow?, string?)> JsonLines(string path)
    {
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var location = $"{path}:{line}";
            JsonNode? node = null;
            string? error = null;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e) { error = $"{location}: not valid JSON: {e.Message}"; }
            yield return node is JsonObject o ? (new RawRow(location, line, o), null) : (null, error ?? $"{location}: expected a JSON object");
        }
    }

    static IEnumerable<(RawRow?, string?)> JsonArray(string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new DatasetException($"{path}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}"); }
        var array = root switch
        {
            System.Text.Json.Nodes.JsonArray a => a,
            JsonObject o when o.Where(kv => kv.Value is System.Text.Json.Nodes.JsonArray).ToList() is [var only] => (System.Text.Json.Nodes.JsonArray)only.Value!,
            _ => throw new DatasetException($"{path}: expected a JSON array of objects (or an object with one array field holding them)"),
        };
        for (int i = 0; i < array.Count; i++)
        {
            var location = $"{path}: item {i}";
            yield return array[i] is JsonObject o ? (new RawRow(location, i + 1, o), null) : (null, $"{location}: expected a JSON object");
        }
    }
}
