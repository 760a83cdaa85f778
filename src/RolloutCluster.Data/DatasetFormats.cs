using System.Text.Json.Nodes;

namespace RolloutCluster.Data;

/// <summary>
/// Adapters from the row formats of public datasets to problems: generic math {"prompt", "answer"},
/// generic code {"prompt", "tests" (code or a list of statements), "entry_point"}, GSM8K
/// {"question", "answer" ending in "#### x"} and HumanEval {"task_id", "prompt", "test",
/// "entry_point", "canonical_solution"}.
/// </summary>
public static class DatasetFormats
{
    public static Problem GenericMath(JsonObject row, int line) =>
        new(JsonlReader.OptionalText(row, "id") ?? $"row-{line}", JsonlReader.Text(row, "prompt"), JsonlReader.Text(row, "answer"));

    public static CodeProblem GenericCode(JsonObject row, int line)
    {
        var tests = row["tests"] is JsonArray ? null : JsonlReader.OptionalText(row, "tests");
        var cases = row["tests"] is JsonArray ? JsonlReader.OptionalList(row, "tests") : null;
        if (tests is null && cases is null) throw new DatasetException("missing field 'tests'");
        return new CodeProblem(JsonlReader.OptionalText(row, "id") ?? $"row-{line}", JsonlReader.OptionalText(row, "prompt") ?? "", tests,
            JsonlReader.OptionalText(row, "entry_point"), cases, JsonlReader.OptionalText(row, "canonical_solution"));
    }

    /// <summary>GSM8K: the answer field is a worked solution whose last line is "#### final".</summary>
    public static Problem Gsm8k(JsonObject row, int line)
    {
        var solution = JsonlReader.Text(row, "answer");
        int marker = solution.LastIndexOf("####", StringComparison.Ordinal);
        if (marker < 0) throw new DatasetException("field 'answer' has no '#### final answer' line");
        var final = solution[(marker + 4)..].Trim();
        if (final.Length == 0) throw new DatasetException("field 'answer' has an empty final answer after ####");
        return new Problem($"gsm8k-{line}", JsonlReader.Text(row, "question"), final, solution[..marker].Trim());
    }

    public static CodeProblem HumanEval(JsonObject row, int line) =>
        new(JsonlReader.Text(row, "task_id"), JsonlReader.Text(row, "prompt"), JsonlReader.Text(row, "test"),
            JsonlReader.Text(row, "entry_point"), null, JsonlReader.Text(row, "canonical_solution"));
}
