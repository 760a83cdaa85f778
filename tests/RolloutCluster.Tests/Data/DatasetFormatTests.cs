using RolloutCluster.Data;
using RolloutCluster.Data.Datasets;

namespace RolloutCluster.Tests.Data;

public sealed class DatasetFormatTests
{
    static string Write(params string[] lines)
    {
        var path = Path.Combine(TinyModels.TempDir(), "data.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    static IReadOnlyList<Problem> Load(string path, string format, IReadOnlyDictionary<string, string>? fields = null, bool skip = false) =>
        new DatasetSource(path, format, fields, skip).Load().Problems;

    [Fact]
    public void Gsm8k_rows_give_the_question_and_the_final_answer()
    {
        var path = Write("{\"question\": \"Tom has 3 apples and buys 4. How many?\", \"answer\": \"3 + 4 = <<3+4=7>>7\\n#### 7\"}");
        var p = Load(path, "gsm8k").Single();
        Assert.Equal("7", p.Answer);
        Assert.StartsWith("Tom has 3 apples", p.Question);
        Assert.Equal("3 + 4 = <<3+4=7>>7", p.Reasoning);
    }

    [Fact]
    public void Humaneval_rows_give_prompt_tests_and_entry_point()
    {
        var path = Write("{\"task_id\": \"HumanEval/0\", \"prompt\": \"def f(x):\\n\", \"canonical_solution\": \"    return x\\n\", \"test\": \"def check(c):\\n    assert c(1) == 1\\n\", \"entry_point\": \"f\"}");
        var t = Load(path, "humaneval").Single();
        Assert.Equal(("HumanEval/0", "f", "    return x\n"), (t.Id, t.EntryPoint, t.Solution));
        Assert.True(t.HasTests);
    }

    [Fact]
    public void Generic_code_rows_take_test_code_or_a_list_of_cases()
    {
        var path = Write("{\"prompt\": \"\", \"tests\": [\"assert f(1) == 1\", \"assert f(2) == 2\"]}", "{\"prompt\": \"\", \"tests\": \"assert f(1) == 1\", \"entry_point\": \"f\"}");
        var rows = Load(path, "generic");
        Assert.Equal(2, rows[0].TestCases!.Count);
        Assert.Null(rows[0].Tests);
        Assert.Equal("assert f(1) == 1", rows[1].Tests);
    }

    [Fact]
    public void Math_rows_take_the_boxed_answer_and_mbpp_rows_their_test_list()
    {
        var math = Write("{\"problem\": \"What is $1+1$?\", \"solution\": \"We add: $1+1=\\\\boxed{2}$.\"}");
        var p = Load(math, "math").Single();
        Assert.Equal(("2", "What is $1+1$?"), (p.Answer, p.Question));
        var mbpp = Write("{\"task_id\": 2, \"text\": \"Write f.\", \"code\": \"def f(): return 1\", \"test_list\": [\"assert f() == 1\"], \"test_setup_code\": \"\"}");
        var m = Load(mbpp, "mbpp").Single();
        Assert.Equal(["assert f() == 1"], m.TestCases!);
        Assert.Contains("assert f() == 1", m.Question);
        Assert.Equal("def f(): return 1", m.Solution);
    }

    [Fact]
    public void A_field_mapping_reads_other_column_names_and_a_missing_mapped_field_names_file_line_and_field()
    {
        var path = Write("{\"q\": \"Compute: 1 + 1\", \"result\": 2}", "{\"q\": \"Compute: 2 + 2\"}");
        var fields = new Dictionary<string, string> { ["prompt"] = "q", ["answer"] = "result" };
        var e = Assert.Throws<DatasetException>(() => Load(path, "generic", fields));
        Assert.Equal($"{path}:2: missing field 'result' (mapped as answer); the row has: q", e.Message);
        var kept = Load(path, "generic", fields, skip: true);
        Assert.Equal(("Compute: 1 + 1", "2"), (kept.Single().Question, kept.Single().Answer));
    }

    [Fact]
    public void Chat_rows_take_the_last_user_turn_as_prompt_and_a_final_assistant_turn_as_solution()
    {
        var path = Write("{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"<answer>4</answer>\"}]}");
        var p = Load(path, "generic").Single();
        Assert.Equal(("2+2?", "<answer>4</answer>"), (p.Question, p.Solution));
    }

    [Fact]
    public void A_bad_line_rejects_the_dataset_with_file_and_line()
    {
        var path = Write("{\"question\": \"q\", \"answer\": \"#### 1\"}", "{\"question\": \"q\", \"answer\": \"no final line\"}", "not json", "{\"question\": \"q\", \"answer\": \"#### 2\"}");
        var e = Assert.Throws<DatasetException>(() => Load(path, "gsm8k"));
        Assert.Equal($"{path}:2: field 'answer' has no '#### final answer' line", e.Message);
    }

    [Fact]
    public void Skipping_bad_lines_keeps_the_rest_and_counts_them()
    {
        var path = Write("{\"question\": \"q\", \"answer\": \"#### 1\"}", "{\"question\": \"q\", \"answer\": \"no final line\"}", "not json", "[1, 2]", "{\"question\": \"q\", \"answer\": \"#### 2\"}");
        var rows = new DatasetSource(path, "gsm8k", SkipBadRows: true).Load();
        Assert.Equal(["1", "2"], rows.Problems.Select(r => r.Answer));
        Assert.Equal(3, rows.Skipped);
        Assert.Contains(rows.Errors, e => e.StartsWith($"{path}:3: not valid JSON", StringComparison.Ordinal));
        Assert.Contains(rows.Errors, e => e == $"{path}:4: expected a JSON object");
    }

    [Fact]
    public void Json_arrays_read_like_jsonl_and_unknown_formats_and_file_types_are_named()
    {
        var path = Path.Combine(TinyModels.TempDir(), "rows.json");
        File.WriteAllText(path, "{\"data\": [{\"prompt\": \"a\", \"answer\": \"1\"}, {\"prompt\": \"b\", \"answer\": \"2\"}]}");
        Assert.Equal(["1", "2"], Load(path, "generic").Select(p => p.Answer));
        var e = Assert.Throws<DatasetException>(() => Load(path, "alpaca"));
        Assert.Equal("unknown format 'alpaca'; known: generic, gsm8k, math, humaneval, mbpp", e.Message);
        var csv = Path.Combine(TinyModels.TempDir(), "rows.csv");
        File.WriteAllText(csv, "a,b\n");
        e = Assert.Throws<DatasetException>(() => Load(csv, "generic"));
        Assert.Equal($"{csv}: unknown dataset file type '.csv'; known: .jsonl, .json, .parquet", e.Message);
    }

    [Fact]
    public void The_shared_datasets_parse_completely()
    {
        var gsm8k = Path.Combine(RepoPaths.Root, "..", "shared", "data", "gsm8k", "test.jsonl");
        var humaneval = Path.Combine(RepoPaths.Root, "..", "shared", "data", "humaneval", "HumanEval.jsonl");
        Assert.True(File.Exists(gsm8k) && File.Exists(humaneval), "../shared/data (GSM8K, HumanEval) must sit beside the repository");
        Assert.Equal(1319, Load(gsm8k, "gsm8k").Count);
        Assert.Equal(164, Load(humaneval, "humaneval").Count(p => p.HasTests && p.EntryPoint is not null));
    }
}
