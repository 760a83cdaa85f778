using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Tests.Training;

/// <summary>Job files over dataset files: formats, mappings, rewards the data cannot feed, and sizes no machine can hold.</summary>
public sealed class JobFileDataTests
{
    static string Data(params string[] lines)
    {
        var path = Path.Combine(TinyModels.TempDir(), "rows.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    static string Job(string task, string rewards = "[ { name: math } ]", string grpo = "prompts_per_step: 4") => $$"""
        name: data
        model: { preset: tiny, threads: 1 }
        task: {{task}}
        rewards: {{rewards}}
        stages:
          - { name: grpo, kind: grpo, steps: 2, {{grpo}}, group_size: 4, sampling: { max_new_tokens: 16 }, optimizer: { lr: 1.0e-4 } }
        """;

    static JobSpecException Fails(string job) => Assert.Throws<JobSpecException>(() => JobFile.Parse(job, "job.yaml"));

    [Fact]
    public void A_user_file_in_its_own_layout_is_read_through_the_field_mapping()
    {
        var path = Data("{\"q\": \"Compute: 1 + 1\", \"res\": 2}", "{\"q\": \"Compute: 2 + 3\", \"res\": 5}", "{\"q\": \"Compute: 4 + 4\", \"res\": 8}");
        var spec = JobFile.Parse(Job($"{{ dataset: {path}, fields: {{ prompt: q, answer: res }}, test: \"holdout:1\" }}"), "job.yaml");
        Assert.Equal(("generic", "res"), (spec.Task.Format, spec.Task.Fields!["answer"]));
        var data = RolloutCluster.Data.TaskData.Load(spec.Task.ToSource(), 1);
        Assert.Equal((2, 1), (data.TrainRows, data.Test.Count));
        Assert.Equal(3, data.Train(0).Take(6).Select(p => p.Answer).Concat(data.Test.Select(p => p.Answer)).Distinct().Count());
    }

    [Fact]
    public void An_unknown_format_names_the_known_ones()
    {
        var path = Data("{\"prompt\": \"a\", \"answer\": \"1\"}");
        var e = Fails(Job($"{{ dataset: {path}, format: alpaca }}"));
        Assert.Matches(@"^job\.yaml:3:\d+: task\.format: expected one of generic, gsm8k, math, humaneval, mbpp, found ""alpaca""$", e.Message);
    }

    [Fact]
    public void A_missing_mapped_field_names_the_file_line_and_field_unless_bad_rows_are_skipped()
    {
        var path = Data("{\"q\": \"a\", \"res\": 1}", "{\"q\": \"b\"}");
        var e = Fails(Job($"{{ dataset: {path}, fields: {{ prompt: q, answer: res }} }}"));
        Assert.Matches($@"^job\.yaml:3:\d+: task\.dataset: {System.Text.RegularExpressions.Regex.Escape(path)}:2: missing field 'res' \(mapped as answer\); the row has: q$", e.Message);
        var spec = JobFile.Parse(Job($"{{ dataset: {path}, fields: {{ prompt: q, answer: res }}, bad_rows: skip }}"), "job.yaml");
        Assert.True(spec.Task.SkipBadRows);
    }

    [Fact]
    public void A_code_reward_on_a_task_without_tests_is_refused_naming_the_field()
    {
        var path = Data("{\"prompt\": \"def f():\", \"answer\": \"1\"}");
        var e = Fails(Job($"{{ dataset: {path} }}", rewards: "[ { name: code } ]"));
        Assert.Matches(@"^job\.yaml:4:\d+: rewards\[0\]: reward 'code' runs each problem's tests, but problem generic-1 of .* has none \(task\.fields\.tests, column 'tests'\)$", e.Message);
        var noAnswers = Data("{\"prompt\": \"2+2?\"}");
        e = Fails(Job($"{{ dataset: {noAnswers} }}"));
        Assert.Contains("rewards[0]: reward 'math' compares with each problem's answer, but problem generic-1", e.Message);
    }

    [Fact]
    public void A_step_no_machine_can_hold_is_refused_with_the_limit_named()
    {
        var e = Fails(Job("{ dataset: builtin:arithmetic }", rewards: "[ { name: accuracy } ]", grpo: "prompts_per_step: 100000000"));
        Assert.Matches(@"^job\.yaml:6:\d+: stages\[0\]\.prompts_per_step: 100000000 prompts x 4 samples of up to 16 new tokens need about [0-9.]+ GiB for one step, over the limit of [0-9.]+ GiB \(a quarter of the [0-9.]+ GiB this machine can give a process\)$", e.Message);
    }

    [Fact]
    public void A_missing_dataset_file_is_named_with_the_field()
    {
        var e = Fails(Job("{ dataset: /nonexistent/train.jsonl }"));
        Assert.Matches(@"^job\.yaml:3:\d+: task\.dataset: /nonexistent/train\.jsonl: dataset file not found$", e.Message);
    }
}
