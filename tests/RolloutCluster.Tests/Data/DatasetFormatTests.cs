using RolloutCluster.Data;

namespace RolloutCluster.Tests.Data;

public sealed class DatasetFormatTests
{
    static string Write(params string[] lines)
    {
        var path = Path.Combine(TinyModels.TempDir(), "data.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Gsm8k_rows_give_the_question_and_the_final_answer()
    {
        var path = Write("{\"question\": \"Tom has 3 apples and buys 4. How many?\", \"answer\": \"3 + 4 = <<3+4=7>>7\\n#### 7\"}");
        var p = JsonlReader.Read(path, DatasetFormats.Gsm8k).Rows.Single().Item;
        Assert.Equal("7", p.Answer);
        Assert.StartsWith("Tom has 3 apples", p.Question);
        Assert.Equal("3 + 4 = <<3+4=7>>7", p.Reasoning);
    }

    [Fact]
    public void Humaneval_rows_give_prompt_tests_and_entry_point()
    {
        var path = Write("{\"task_id\": \"HumanEval/0\", \"prompt\": \"def f(x):\\n\", \"canonical_solution\": \"    return x\\n\", \"test\": \"def check(c):\\n    assert c(1) == 1\\n\", \"entry_point\": \"f\"}");
        var t = JsonlReader.Read(path, DatasetFormats.HumanEval).Rows.Single().Item;
        Assert.Equal(("HumanEval/0", "f", "    return x\n"), (t.Id, t.EntryPoint, t.CanonicalSolution));
    }

    [Fact]
    public void Generic_code_rows_take_test_code_or_a_list_of_cases()
    {
        var path = Write("{\"prompt\": \"\", \"tests\": [\"assert f(1) == 1\", \"assert f(2) == 2\"]}", "{\"prompt\": \"\", \"tests\": \"assert f(1) == 1\", \"entry_point\": \"f\"}");
        var rows = JsonlReader.Read(path, DatasetFormats.GenericCode).Rows;
        Assert.Equal(2, rows[0].Item.TestCases!.Count);
        Assert.Null(rows[0].Item.Tests);
        Assert.Equal("assert f(1) == 1", rows[1].Item.Tests);
    }

    [Fact]
    public void A_bad_line_rejects_the_dataset_with_file_and_line()
    {
        var path = Write("{\"question\": \"q\", \"answer\": \"#### 1\"}", "{\"question\": \"q\", \"answer\": \"no final line\"}", "not json", "{\"question\": \"q\", \"answer\": \"#### 2\"}");
        var e = Assert.Throws<DatasetException>(() => JsonlReader.Read(path, DatasetFormats.Gsm8k));
        Assert.Equal($"{path}:2: field 'answer' has no '#### final answer' line", e.Message);
    }

    [Fact]
    public void Skipping_bad_lines_keeps_the_rest_and_counts_them()
    {
        var path = Write("{\"question\": \"q\", \"answer\": \"#### 1\"}", "{\"question\": \"q\", \"answer\": \"no final line\"}", "not json", "[1, 2]", "{\"question\": \"q\", \"answer\": \"#### 2\"}");
        var rows = JsonlReader.Read(path, DatasetFormats.Gsm8k, skipBadLines: true);
        Assert.Equal(["1", "2"], rows.Rows.Select(r => r.Item.Answer));
        Assert.Equal(3, rows.Skipped);
        Assert.Contains(rows.Errors, e => e.StartsWith($"{path}:3: not valid JSON", StringComparison.Ordinal));
        Assert.Contains(rows.Errors, e => e == $"{path}:4: expected a JSON object");
    }

    [Fact]
    public void The_shared_datasets_parse_completely_when_present()
    {
        var gsm8k = Path.Combine(RepoPaths.Root, "..", "shared", "data", "gsm8k", "test.jsonl");
        var humaneval = Path.Combine(RepoPaths.Root, "..", "shared", "data", "humaneval", "HumanEval.jsonl");
        if (!File.Exists(gsm8k) || !File.Exists(humaneval)) return; // CI machines may not carry ../shared; the score tests use their own rows
        Assert.Equal(1319, JsonlReader.Read(gsm8k, DatasetFormats.Gsm8k).Rows.Count);
        Assert.Equal(164, JsonlReader.Read(humaneval, DatasetFormats.HumanEval).Rows.Count);
    }
}
