using System.Text.Json.Nodes;
using RolloutCluster.Cli;

namespace RolloutCluster.Tests.Cli;

/// <summary>`rollout score` end to end, on the shared GSM8K and HumanEval files when present, else on rows written here.</summary>
public sealed class ScoreCommandTests
{
    static readonly string SharedGsm8k = Path.Combine(RepoPaths.Root, "..", "shared", "data", "gsm8k", "test.jsonl");
    static readonly string SharedHumanEval = Path.Combine(RepoPaths.Root, "..", "shared", "data", "humaneval", "HumanEval.jsonl");

    static async Task<(int Code, List<JsonObject> Rows, string Err)> Score(params string[] args)
    {
        var output = Path.Combine(TinyModels.TempDir(), "scored.jsonl");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await CliApp.RunAsync(["score", .. args, "--output", output], stdout, stderr);
        var rows = File.Exists(output) ? File.ReadLines(output).Select(l => JsonNode.Parse(l)!.AsObject()).ToList() : [];
        return (code, rows, stderr.ToString());
    }

    static string Gsm8kFile()
    {
        if (File.Exists(SharedGsm8k)) return SharedGsm8k;
        var path = Path.Combine(TinyModels.TempDir(), "gsm8k.jsonl");
        File.WriteAllLines(path,
        [
            "{\"question\": \"Ann has 1,200 stamps and gives away 200. How many?\", \"answer\": \"1,200 - 200 = <<1200-200=1000>>1,000\\n#### 1,000\"}",
            "{\"question\": \"A pen costs $2.50. What do 4 cost?\", \"answer\": \"4 * 2.50 = <<4*2.5=10>>10\\n#### 10\"}",
            "{\"question\": \"Half of 9?\", \"answer\": \"9 / 2 = 4.5\\n#### 4.5\"}",
        ]);
        return path;
    }

    static string HumanEvalFile()
    {
        if (File.Exists(SharedHumanEval)) return SharedHumanEval;
        var path = Path.Combine(TinyModels.TempDir(), "humaneval.jsonl");
        File.WriteAllLines(path,
        [
            "{\"task_id\": \"T/0\", \"prompt\": \"def add(a, b):\\n    \\\"\\\"\\\"Sum.\\\"\\\"\\\"\\n\", \"canonical_solution\": \"    return a + b\\n\", \"test\": \"def check(c):\\n    assert c(2, 3) == 5\\n\", \"entry_point\": \"add\"}",
            "{\"task_id\": \"T/1\", \"prompt\": \"import math\\ndef hyp(a, b):\\n\", \"canonical_solution\": \"    return math.hypot(a, b)\\n\", \"test\": \"def check(c):\\n    assert c(3, 4) == 5\\n\", \"entry_point\": \"hyp\"}",
        ]);
        return path;
    }

    [Fact]
    public async Task Gsm8k_reference_solutions_all_score_one()
    {
        var (code, rows, err) = await Score("--format", "gsm8k", "--input", Gsm8kFile(), "--rewards", "math");
        Assert.True(code == 0, err);
        Assert.All(rows, r => Assert.Equal(1.0, r["reward"]!.GetValue<double>()));
        Assert.All(rows, r => Assert.StartsWith("correct", r["reasons"]!["math"]!.GetValue<string>()));
        Assert.Contains($"scored {rows.Count} rows", err);
        Assert.Contains("mean reward 1.0000", err);
    }

    [Fact]
    public async Task Humaneval_canonical_solutions_all_pass_and_empty_bodies_none()
    {
        var file = HumanEvalFile();
        var (code, rows, err) = await Score("--format", "humaneval", "--input", file, "--rewards", "code", "--lanes", "2");
        Assert.True(code == 0, err);
        Assert.All(rows, r => Assert.True(r["reward"]!.GetValue<double>() == 1.0, $"{r["task_id"]}: {r["reasons"]}"));
        Assert.Contains("executions/s", err);

        var passFile = Path.Combine(TinyModels.TempDir(), "pass.jsonl");
        File.WriteAllLines(passFile, File.ReadLines(file).Select(l =>
        {
            var row = JsonNode.Parse(l)!.AsObject();
            row["completion"] = "    pass\n";
            return row.ToJsonString();
        }));
        (code, var none, err) = await Score("--format", "humaneval", "--input", passFile, "--rewards", "code", "--lanes", "2");
        Assert.True(code == 0, err);
        Assert.Equal(rows.Count, none.Count);
        Assert.All(none, r => Assert.Equal(0.0, r["reward"]!.GetValue<double>()));
    }

    [Fact]
    public async Task Generic_rows_get_reward_rewards_reasons_and_ms()
    {
        var input = Path.Combine(TinyModels.TempDir(), "rows.jsonl");
        File.WriteAllLines(input,
        [
            "{\"completion\": \"<think>6*7</think><answer>42</answer>\", \"answer\": \"42\", \"id\": \"a\"}",
            "{\"completion\": \"<answer>41</answer>\", \"answer\": \"42\", \"id\": \"b\"}",
        ]);
        var (code, rows, err) = await Score("--input", input, "--rewards", "math,format,length:effort=low");
        Assert.True(code == 0, err);
        Assert.Equal("a", rows[0]["id"]!.GetValue<string>());
        Assert.Equal(2.0, rows[0]["reward"]!.GetValue<double>());
        Assert.Equal(0.0, rows[1]["reward"]!.GetValue<double>());
        Assert.Equal(0.0, rows[1]["rewards"]!["math"]!.GetValue<double>());
        Assert.Contains("missing <think>", rows[1]["reasons"]!["format"]!.GetValue<string>());
        Assert.True(rows[0]["ms"]!.GetValue<double>() >= 0);
    }

    [Fact]
    public async Task Bad_rows_are_rejected_or_skipped_and_counted()
    {
        var input = Path.Combine(TinyModels.TempDir(), "rows.jsonl");
        File.WriteAllLines(input, ["{\"completion\": \"<answer>1</answer>\", \"answer\": \"1\"}", "{\"answer\": \"1\"}"]);
        var stderr = new StringWriter();
        int code = await CliApp.RunAsync(["score", "--input", input], new StringWriter(), stderr);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: {input}:2: missing field 'completion'; the row has: answer", stderr.ToString().Trim());
        var (ok, rows, err) = await Score("--input", input, "--skip-bad-lines");
        Assert.Equal(0, ok);
        Assert.Single(rows);
        Assert.Contains("(1 bad lines skipped)", err);
    }

    [Fact]
    public async Task Unknown_rewards_are_refused_before_scoring()
    {
        var stderr = new StringWriter();
        int code = await CliApp.RunAsync(["score", "--input", "/nonexistent.jsonl", "--rewards", "math,vibes"], new StringWriter(), stderr);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("unknown reward 'vibes'", stderr.ToString());
    }
}
