using System.Text.Json.Nodes;
using RolloutCluster.Data;
using RolloutCluster.Data.Datasets;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Curation;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Tests.Training;

/// <summary>The rejection-sampling stage's curation, its filters, its dataset rows and its job-file errors.</summary>
public sealed class RejectionSamplingTests
{
    static RolloutGroup Group(Problem problem, params (string Text, double Accuracy)[] samples) => new(problem, [0],
        samples.Select(s => new Completion([1, 2], [-0.1f, -0.2f], s.Text, FinishReason.Stop)).ToList(),
        samples.Select(s => new RewardBreakdown(s.Accuracy + 0.1, new Dictionary<string, double> { ["accuracy"] = s.Accuracy, ["format"] = 1 }, new Dictionary<string, string>())).ToList(),
        WeightsVersion: 7, Generator: "g1");

    static RejectionSamplingStageSpec Spec(int keep = 8, bool dedupe = true, IReadOnlyList<ISampleFilter>? filters = null) =>
        new("rs", 2, 8, new SamplingSpec(1, 1, 0, 16), keep, dedupe,
            filters ?? [new LanguageMixingFilter(), new LongParagraphFilter(40), new CodeBlockFilter(), new RepetitionFilter()], new RewardSpec("accuracy", 1));

    [Fact]
    public void Curation_keeps_correct_samples_that_pass_every_filter_once_each_up_to_the_cap()
    {
        var a = new Problem("a", "Compute: 2 + 2", "4");
        var b = new Problem("b", "Compute: 3 + 3", "6");
        var groups = new[]
        {
            Group(a, ("<answer>4</answer>", 1), ("<answer>5</answer>", 0), ("<answer>4</answer>  ", 1), ("Четыре <answer>4</answer>", 1),
                ("```python\nprint(4)\n```<answer>4</answer>", 1), ("two plus two is four", 1)),
            Group(b, ("<answer>7</answer>", 0), ("x x x x x x x x <answer>6</answer>", 1), (new string('y', 60) + " <answer>6</answer>", 1)),
        };
        var (rows, metrics) = RejectionSamplingStage.Curate(Spec(keep: 1), groups);
        Assert.Equal(9, metrics["rejection/samples"]);
        Assert.Equal(7, metrics["rejection/correct"]);
        Assert.Equal(1, metrics["rejection/dropped/language_mixing"]);
        Assert.Equal(1, metrics["rejection/dropped/code_blocks"]);
        Assert.Equal(1, metrics["rejection/dropped/repetition"]);
        Assert.Equal(1, metrics["rejection/dropped/long_paragraphs"]);
        Assert.Equal(1, metrics["rejection/dropped/duplicate"]);   // the same text but for trailing whitespace
        Assert.Equal(1, metrics["rejection/dropped/over_cap"]);    // "two plus two is four": correct and clean, past keep_per_prompt 1
        Assert.Equal(1, metrics["rejection/kept"]);
        Assert.Equal(1, metrics["rejection/prompts_kept"]);
        var row = Assert.Single(rows);
        Assert.Equal("<answer>4</answer>", (string?)row["solution"]);
        Assert.Equal(0, (int?)row["provenance"]!["sample"]);
        Assert.Equal(7, (long?)row["provenance"]!["weights_version"]);
    }

    [Fact]
    public void Without_dedupe_or_filters_every_correct_sample_up_to_the_cap_is_kept()
    {
        var a = new Problem("a", "q", "4");
        var (rows, metrics) = RejectionSamplingStage.Curate(Spec(dedupe: false, filters: []), [Group(a, ("same", 1), ("same", 1), ("wrong", 0))]);
        Assert.Equal(2, rows.Count);
        Assert.Equal(0, metrics["rejection/dropped/duplicate"]);
    }

    [Theory]
    [InlineData("language_mixing", "The answer is 四 <answer>4</answer>", null)]           // 11 of 12 letters in latin: 92%, over the 90% asked
    [InlineData("language_mixing", "<think>12+7=19</think><answer>19</answer>", null)]   // no letters besides tags: nothing to mix
    [InlineData("code_blocks", "no code here", null)]
    [InlineData("repetition", "one two three four five six seven", null)]
    public void Filters_pass_clean_text(string filter, string text, string? expected)
    {
        ISampleFilter f = filter switch
        {
            "language_mixing" => new LanguageMixingFilter(minShare: 0.9),
            "code_blocks" => new CodeBlockFilter(),
            _ => new RepetitionFilter(),
        };
        Assert.Equal(expected, f.Reject(new Problem("p", "q", "a"), text));
    }

    [Fact]
    public void Filters_say_why_they_reject()
    {
        var plain = new Problem("p", "q", "a");
        Assert.Equal("50% of 4 letters in latin, under 95%", new LanguageMixingFilter().Reject(plain, "ab иж"));
        Assert.Equal("a paragraph of 12 characters, over 10", new LongParagraphFilter(10).Reject(plain, "short\n\n123456789012\n\nok"));
        Assert.Null(new LongParagraphFilter(10).Reject(plain, "short\n\n1234567890"));
        Assert.Equal("a code block in a problem without tests", new CodeBlockFilter().Reject(plain, "```x```"));
        Assert.Null(new CodeBlockFilter().Reject(plain with { Tests = "assert f() == 1" }, "```x```"));   // code tasks may show code
        Assert.Equal("60% of 2-word sequences repeat, over 50%", new RepetitionFilter(2).Reject(plain, "a b a b a b"));
    }

    [Fact]
    public void A_kept_row_reads_back_as_a_problem_whose_solution_is_the_sample()
    {
        var chat = new Problem("c1", "What is 2+2?", "4") { Messages = [new ChatTurn("system", "Be brief."), new ChatTurn("user", "What is 2+2?")] };
        var code = new Problem("h1", "def f():", "") { Tests = "def check(f): assert f() == 1", EntryPoint = "f" };
        var dir = TinyModels.TempDir();
        string path = Path.Combine(dir, "datasets", "rs.jsonl");
        CuratedRows.Write(path, [CuratedRows.Row(Group(chat, ("It is <answer>4</answer>", 1)), 0, "rs"), CuratedRows.Row(Group(code, ("    return 1", 1)), 0, "rs")]);
        Assert.Contains("<answer>4</answer>", File.ReadAllText(path));   // readable, not \u003C-escaped
        var problems = new DatasetSource(path, "generic", null, false).Load().Problems;
        Assert.Equal("It is <answer>4</answer>", problems[0].Solution);
        Assert.Equal("What is 2+2?", problems[0].Question);
        Assert.Equal(["system", "user"], problems[0].Messages!.Select(t => t.Role));
        Assert.Equal("4", problems[0].Answer);
        Assert.Equal("    return 1", problems[1].Solution);
        Assert.Equal("def check(f): assert f() == 1", problems[1].Tests);
        Assert.Equal("f", problems[1].EntryPoint);
        var provenance = JsonNode.Parse(File.ReadLines(path).First())!["provenance"]!;
        Assert.Equal("c1", (string?)provenance["source_id"]);
        Assert.Equal(1.0, (double?)provenance["rewards"]!["accuracy"]);
        Assert.False(File.Exists(path + ".partial"));
    }

    const string Job = """
        name: rs
        model: { preset: tiny, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: accuracy, weight: 1.0 } ]
        stages:
          - { name: rs, kind: rejection-sampling, prompts: 16, samples: 4, sampling: { max_new_tokens: 16 } FILTERS }
          - { name: again, kind: sft, steps: 2, batch_size: 2, dataset: DATASET, optimizer: { lr: 1.0e-4 } }
        """;

    static string JobText(string dataset = "stage:rs", string filters = "", string rewards = "[ { name: accuracy, weight: 1.0 } ]") =>
        Job.Replace("DATASET", dataset).Replace(" FILTERS", filters).Replace("[ { name: accuracy, weight: 1.0 } ]", rewards);

    static JobSpecException Fails(string text)
    {
        var path = Path.Combine(TinyModels.TempDir(), "job.yaml");
        File.WriteAllText(path, text);
        return Assert.Throws<JobSpecException>(() => JobFile.Load(path));
    }

    [Fact]
    public void A_job_with_a_rejection_stage_and_an_sft_stage_reading_it_is_valid()
    {
        var path = Path.Combine(TinyModels.TempDir(), "job.yaml");
        File.WriteAllText(path, JobText(filters: ", filters: [code_blocks, { name: repetition, n: 3, max_ratio: 0.4 }], keep_per_prompt: 2"));
        var spec = JobFile.Load(path);
        var rs = Assert.IsType<RejectionSamplingStageSpec>(spec.Stages[0]);
        Assert.Equal(["code_blocks", "repetition"], rs.Filters.Select(f => f.Name));
        Assert.Equal(2, rs.KeepPerPrompt);
        Assert.Equal("stage:rs", Assert.IsType<SftStageSpec>(spec.Stages[1]).Dataset);
    }

    [Fact]
    public void A_rejection_stage_without_a_verifier_is_refused()
    {
        var error = Fails(JobText(rewards: "[ { name: format, weight: 1.0 } ]"));
        Assert.Contains("stages[0].kind", error.Message);
        Assert.Contains("the job's rewards (format) have none: add accuracy, math or code", error.Message);
    }

    [Fact]
    public void An_unknown_or_repeated_filter_is_refused_with_the_known_ones()
    {
        var unknown = Fails(JobText(filters: ", filters: [code_blocks, profanity]"));
        Assert.Contains("stages[0].filters[1]", unknown.Message);
        Assert.Contains("unknown filter \"profanity\"; known: language_mixing, long_paragraphs, code_blocks, repetition", unknown.Message);
        Assert.Contains("listed twice", Fails(JobText(filters: ", filters: [code_blocks, code_blocks]")).Message);
        Assert.Contains("stages[0].filters[0].max_chars", Fails(JobText(filters: ", filters: [{ name: long_paragraphs, max_chars: 0 }]")).Message);
    }

    [Fact]
    public void An_sft_dataset_must_be_an_earlier_writer_or_a_file_with_targets()
    {
        var stage = Fails(JobText(dataset: "stage:nope"));
        Assert.Contains("stages[1].dataset", stage.Message);
        Assert.Contains("\"nope\" is not an earlier stage that writes a dataset; earlier rejection-sampling stages: rs", stage.Message);
        var file = Path.Combine(TinyModels.TempDir(), "bare.jsonl");
        File.WriteAllText(file, "{\"prompt\": \"q\", \"answer\": \"1\"}\n");
        Assert.Contains("problem generic-1 of " + file + " has no target to learn", Fails(JobText(dataset: file)).Message);
    }

    [Fact]
    public void Verify_false_needs_no_verifier_and_a_teacher_must_be_a_checkpoint()
    {
        var path = Path.Combine(TinyModels.TempDir(), "job.yaml");
        File.WriteAllText(path, JobText(rewards: "[ { name: format, weight: 1.0 } ]", filters: ", verify: false"));
        var spec = Assert.IsType<RejectionSamplingStageSpec>(JobFile.Load(path).Stages[0]);
        Assert.False(spec.Verify);
        Assert.Null(spec.Correctness);
        var missing = Path.Combine(TinyModels.TempDir(), "no-such-teacher");
        var error = Fails(JobText(filters: $", teacher: {missing}"));
        Assert.Contains("stages[0].teacher", error.Message);
        Assert.Contains("no-such-teacher", error.Message);
    }
}
