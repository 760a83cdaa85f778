using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RolloutCluster.Data;
using RolloutCluster.Training.Engine;

namespace RolloutCluster.Training.Curation;

/// <summary>
/// A kept sample as a dataset row in the generic format (id, prompt, answer, solution, and tests,
/// entry_point or messages when the problem had them), so an SFT stage, another job or any JSONL
/// reader can use it; with its provenance: the problem it answers, its sample index, the weights
/// version that wrote it, the stage, and every reward's value.
/// </summary>
public static class CuratedRows
{
    /// <summary>The row for sample <paramref name="sample"/> of <paramref name="group"/>.</summary>
    public static JsonObject Row(RolloutGroup group, int sample, string stage)
    {
        var problem = group.Problem;
        string completion = group.Completions[sample].Text;
        var row = new JsonObject
        {
            ["id"] = $"{problem.Id}/{stage}/{sample}",
            ["prompt"] = problem.Question,
            ["answer"] = problem.Answer,
            ["solution"] = completion,
        };
        if (problem.TestCases is { Count: > 0 } cases) row["tests"] = new JsonArray([.. cases.Select(c => (JsonNode?)c)]);
        else if (problem.Tests is { } tests) row["tests"] = tests;
        if (problem.EntryPoint is { } entry) row["entry_point"] = entry;
        if (problem.Messages is { } turns)
            row["messages"] = new JsonArray([.. turns.Select(t => (JsonNode?)new JsonObject { ["role"] = t.Role, ["content"] = t.Content }),
                new JsonObject { ["role"] = "assistant", ["content"] = completion }]);
        var scores = group.Scores[sample];
        row["provenance"] = new JsonObject
        {
            ["source_id"] = problem.Id,
            ["sample"] = sample,
            ["weights_version"] = group.WeightsVersion,
            ["stage"] = stage,
            ["generator"] = group.Generator,
            ["reward"] = scores.Total,
            ["rewards"] = new JsonObject([.. scores.Values.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]),
        };
        return row;
    }

    // Readable rows: "<think>" rather than "\u003Cthink\u003E" (still valid JSON).
    static readonly JsonSerializerOptions Options = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes rows as JSONL, whole or not at all (a temporary file renamed into place).</summary>
    public static void Write(string path, IEnumerable<JsonObject> rows)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".partial";
        using (var writer = new StreamWriter(temporary))
            foreach (var row in rows) writer.WriteLine(row.ToJsonString(Options));
        File.Move(temporary, path, overwrite: true);
    }
}
