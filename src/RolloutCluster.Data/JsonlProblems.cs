using System.Text.Json;

namespace RolloutCluster.Data;

/// <summary>Reads {"prompt", "answer"} JSONL files: one problem per line, the prompt being the bare question.</summary>
public static class JsonlProblems
{
    public static IReadOnlyList<Problem> Load(string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"{path}: dataset file not found");
        var problems = new List<Problem>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new DatasetException($"{path}:{line}: expected a JSON object");
                string Field(string name) => root.TryGetProperty(name, out var v)
                    ? v.ValueKind switch
                    {
                        JsonValueKind.String => v.GetString()!,
                        JsonValueKind.Number => v.GetRawText(),
                        _ => throw new DatasetException($"{path}:{line}: field '{name}' must be a string or number, found {v.ValueKind}"),
                    }
                    : throw new DatasetException($"{path}:{line}: missing field '{name}'");
                problems.Add(new Problem($"{Path.GetFileName(path)}:{line}", Field("prompt"), Field("answer")));
            }
            catch (JsonException e)
            {
                throw new DatasetException($"{path}:{line}: not valid JSON: {e.Message}");
            }
        }
        if (problems.Count == 0) throw new DatasetException($"{path}: no problems in the file");
        return problems;
    }
}
