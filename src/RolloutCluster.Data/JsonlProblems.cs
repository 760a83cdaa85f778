namespace RolloutCluster.Data;

/// <summary>Reads {"prompt", "answer"} JSONL files: one problem per line, the prompt being the bare question.</summary>
public static class JsonlProblems
{
    public static IReadOnlyList<Problem> Load(string path, bool skipBadLines = false) =>
        JsonlReader.Read(path, DatasetFormats.GenericMath, skipBadLines).Rows.Select(r => r.Item).ToList();
}
