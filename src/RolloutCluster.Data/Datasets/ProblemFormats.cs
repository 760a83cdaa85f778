using System.Text.Json;
using System.Text.Json.Nodes;
using RolloutCluster.Rewards.Answers;

namespace RolloutCluster.Data.Datasets;

/// <summary>
/// Row layouts of public datasets, each a default mapping from our fields (id, prompt, answer,
/// reasoning, solution, tests, entry_point, messages) to the dataset's columns, and the rules that
/// turn a row into a <see cref="Problem"/>. A job's <c>fields:</c> mapping overrides the defaults; a
/// field the user maps must be in every row.
/// </summary>
public static class ProblemFormats
{
    /// <summary>Our field names, the keys of a <c>fields:</c> mapping.</summary>
    public static readonly IReadOnlyList<string> Fields = ["id", "prompt", "answer", "reasoning", "solution", "tests", "entry_point", "messages"];

    static readonly Dictionary<string, Dictionary<string, string>> Defaults = new(StringComparer.Ordinal)
    {
        ["generic"] = Fields.ToDictionary(f => f, f => f),
        // {"question", "answer": "worked solution\n#### 42"}
        ["gsm8k"] = new() { ["prompt"] = "question", ["answer"] = "answer" },
        // {"problem", "solution" with \boxed{answer}} (MATH); an "answer" column (MATH-500) wins when present.
        ["math"] = new() { ["id"] = "unique_id", ["prompt"] = "problem", ["solution"] = "solution", ["answer"] = "answer" },
        // {"task_id", "prompt", "canonical_solution", "test", "entry_point"}
        ["humaneval"] = new() { ["id"] = "task_id", ["prompt"] = "prompt", ["solution"] = "canonical_solution", ["tests"] = "test", ["entry_point"] = "entry_point" },
        // {"task_id", "text", "code", "test_list": [...], "test_setup_code"}
        ["mbpp"] = new() { ["id"] = "task_id", ["prompt"] = "text", ["solution"] = "code", ["tests"] = "test_list" },
    };

    public static IReadOnlyCollection<string> Names => Defaults.Keys;

    /// <summary>The format's column for each of our fields, with the user's mapping applied; throws naming an unknown format or field.</summary>
    public static IReadOnlyDictionary<string, string> Columns(string format, IReadOnlyDictionary<string, string>? fields)
    {
        if (!Defaults.TryGetValue(format, out var defaults))
            throw new DatasetException($"unknown format '{format}'; known: {string.Join(", ", Defaults.Keys)}");
        var columns = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        foreach (var (field, column) in fields ?? new Dictionary<string, string>())
        {
            if (!Fields.Contains(field)) throw new DatasetException($"unknown field '{field}'; known: {string.Join(", ", Fields)}");
            columns[field] = column;
        }
        return columns;
    }

    /// <summary>A row's problem. Fields the user mapped explicitly, and those the format needs, must be present.</summary>
    public static Problem Map(string format, IReadOnlyDictionary<string, string> columns, IReadOnlyDictionary<string, string>? userFields, JsonObject row, int index)
    {
        bool Required(string field) => userFields?.ContainsKey(field) == true || format switch
        {
            "gsm8k" => field is "prompt" or "answer",
            "math" => field is "prompt" or "solution",
            "humaneval" => field is "prompt" or "tests" or "entry_point",
            "mbpp" => field is "prompt" or "tests",
            _ => false,
        };
        string? Text(string field) => columns.TryGetValue(field, out var column) ? (Required(field) ? Rows.Text(row, column, field) : Rows.OptionalText(row, column)) : null;

        var id = Text("id") ?? $"{format}-{index}";
        // The prompt first: a row of another layout altogether is reported by its most telling field.
        string? solution;
        string prompt = "";
        bool chat = columns.TryGetValue("messages", out var messagesColumn) && row[messagesColumn] is JsonArray;
        if (!chat) prompt = Text("prompt") ?? throw new DatasetException($"missing field '{columns.GetValueOrDefault("prompt", "prompt")}' (the prompt){Has(row)}");
        string? answer = Text("answer"), reasoning = Text("reasoning");
        solution = Text("solution");
        IReadOnlyList<ChatTurn>? turns = null;
        if (chat) (prompt, solution, turns) = FromMessages((JsonArray)row[messagesColumn!]!, messagesColumn!, solution);
        switch (format)
        {
            case "gsm8k":
                int marker = answer!.LastIndexOf("####", StringComparison.Ordinal);
                if (marker < 0) throw new DatasetException($"field '{columns["answer"]}' has no '#### final answer' line");
                reasoning ??= answer[..marker].Trim();
                answer = answer[(marker + 4)..].Trim();
                if (answer.Length == 0) throw new DatasetException($"field '{columns["answer"]}' has an empty final answer after ####");
                solution = null;   // the worked solution becomes the reasoning of an R1-format target
                break;
            case "math":
                answer ??= AnswerExtraction.Extract(solution!) ?? throw new DatasetException($"field '{columns["solution"]}' states no final answer (\\boxed{{…}})");
                (reasoning, solution) = (solution, null);
                break;
        }
        var problem = new Problem(id, prompt, answer ?? "", reasoning) { Solution = solution, EntryPoint = Text("entry_point"), Messages = turns };
        if (columns.TryGetValue("tests", out var testsColumn) && row[testsColumn] is { } tests)
        {
            problem = tests is JsonArray
                ? problem with { TestCases = Rows.List(row, testsColumn), Tests = format == "mbpp" ? Rows.OptionalText(row, "test_setup_code") is { Length: > 0 } setup ? setup : null : null }
                : problem with { Tests = Rows.Text(row, testsColumn, "tests") };
        }
        else if (Required("tests")) throw new DatasetException($"missing field '{columns["tests"]}' (the tests){Has(row)}");
        if (format == "mbpp" && problem.TestCases is { Count: > 0 } cases)
            problem = problem with { Question = $"{prompt}\nYour code should pass these tests:\n{string.Join("\n", cases)}\n" };
        return problem;
    }

    /// <summary>Chat rows: the prompt is the last user turn; a final assistant turn is the solution; the turns before it are kept for chat templates.</summary>
    static (string, string?, IReadOnlyList<ChatTurn>) FromMessages(JsonArray messages, string column, string? solution)
    {
        var turns = messages.Select((m, i) => m is JsonObject o
            ? (Role: Rows.Text(o, "role", $"{column}[{i}].role"), Content: Rows.Text(o, "content", $"{column}[{i}].content"))
            : throw new DatasetException($"field '{column}[{i}]' must be an object with role and content")).ToList();
        if (turns.Count > 0 && turns[^1].Role == "assistant")
        {
            solution ??= turns[^1].Content;
            turns.RemoveAt(turns.Count - 1);
        }
        var user = turns.LastOrDefault(t => t.Role == "user");
        if (user.Content is null) throw new DatasetException($"field '{column}' has no user message");
        return (user.Content, solution, turns.Select(t => new ChatTurn(t.Role, t.Content)).ToList());
    }

    static string Has(JsonObject row) => $"; the row has: {string.Join(", ", row.Select(kv => kv.Key))}";

    /// <summary>Typed access to a row's fields, with errors that name them.</summary>
    public static class Rows
    {
        /// <summary>A required string field (numbers are accepted and kept as written).</summary>
        public static string Text(JsonObject row, string column, string? field = null) => row[column] switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
            null => throw new DatasetException($"missing field '{column}'{(field is not null && field != column ? $" (mapped as {field})" : "")}{Has(row)}"),
            var other => throw new DatasetException($"field '{column}' must be a string, found {other.GetValueKind()}"),
        };

        public static string? OptionalText(JsonObject row, string column) => row[column] is null ? null : Text(row, column);

        public static IReadOnlyList<string> List(JsonObject row, string column) => row[column] switch
        {
            JsonArray a => a.Select((x, i) => x is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
                : throw new DatasetException($"field '{column}[{i}]' must be a string")).ToList(),
            var other => throw new DatasetException($"field '{column}' must be a list of strings, found {other?.GetValueKind().ToString() ?? "nothing"}"),
        };
    }
}
