using RolloutCluster.Data;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Tests.Training;

public sealed class JobFileTests
{
    const string Valid = """
        name: unit
        seed: 3
        model: { preset: tiny, init_seed: 2, threads: 1 }
        task:
          dataset: builtin:arithmetic
          template: r1-compact
          test_size: 50
        rewards:
          - { name: accuracy, weight: 1.0 }
          - { name: format, weight: 0.1 }
        stages:
          - name: sft
            kind: sft
            steps: 10
            batch_size: 4
            optimizer: { lr: 1.0e-3, warmup_steps: 2, schedule: cosine }
          - name: rl
            kind: grpo
            steps: 5
            prompts_per_step: 4
            group_size: 4
            sampling: { temperature: 1.0, max_new_tokens: 48 }
            loss: { aggregation: seq-mean-token-sum-norm, clip_low: 0.2, clip_high: 0.28, dual_clip: 3.0 }
            kl: { coef: 0.01, estimator: k2 }
            overlong: { mode: penalty, buffer: 8 }
            optimizer: { lr: 1.0e-4 }
        evaluation: { dataset: "builtin:arithmetic?split=test&n=20", samples: 4, max_new_tokens: 48, after: [start, sft, rl] }
        """;

    static string Write(string text, string extension = ".yaml")
    {
        var path = Path.Combine(TinyModels.TempDir(), "job" + extension);
        File.WriteAllText(path, text);
        return path;
    }

    static JobSpecException Fails(string text, string extension = ".yaml")
    {
        var path = Write(text, extension);
        return Assert.Throws<JobSpecException>(() => JobFile.Load(path));
    }

    [Fact]
    public void A_valid_job_parses_every_section()
    {
        var spec = JobFile.Load(Write(Valid));
        Assert.Equal("unit", spec.Name);
        Assert.Equal(3, spec.Seed);
        Assert.Equal("tiny", spec.Model.Preset);
        var sft = Assert.IsType<SftStageSpec>(spec.Stages[0]);
        Assert.Equal(4, sft.BatchSize);
        Assert.Equal("cosine", sft.Optimizer.Schedule);
        Assert.Equal(10, sft.Optimizer.TotalSteps);
        var rl = Assert.IsType<GrpoStageSpec>(spec.Stages[1]);
        Assert.Equal("seq-mean-token-sum-norm", rl.Loss.Aggregation);
        Assert.Equal(48, rl.Loss.Budget);
        Assert.Equal(3.0, rl.Loss.DualClip);
        Assert.Equal(0.01, rl.KlCoefficient);
        Assert.Equal("k2", rl.KlEstimator);
        Assert.Equal(new OverlongSpec("penalty", 8), rl.Overlong);
        Assert.Equal(["start", "sft", "rl"], spec.Evaluation!.After);
    }

    [Fact]
    public void A_grpo_stage_may_score_with_rewards_of_its_own()
    {
        Assert.Null(Assert.IsType<GrpoStageSpec>(JobFile.Load(Write(Valid)).Stages[1]).Rewards);
        var own = Valid.Replace("    optimizer: { lr: 1.0e-4 }", "    optimizer: { lr: 1.0e-4 }\n    rewards: [ { name: accuracy, weight: 2.0 } ]");
        var rewards = Assert.IsType<GrpoStageSpec>(JobFile.Load(Write(own)).Stages[1]).Rewards!;
        Assert.Equal(("accuracy", 2.0), (Assert.Single(rewards).Name, rewards[0].Weight));
        var unknown = Fails(Valid.Replace("    optimizer: { lr: 1.0e-4 }", "    optimizer: { lr: 1.0e-4 }\n    rewards: [ { name: vibes } ]"));
        Assert.Contains("stages[1].rewards[0].name", unknown.Message);
    }

    [Fact]
    public void A_reward_takes_a_scope_and_a_bad_one_is_refused_where_it_stands()
    {
        var spec = JobFile.Load(Write(Valid.Replace("{ name: format, weight: 0.1 }", "{ name: format, weight: 0.1, scope: answer }")));
        Assert.Equal("answer", spec.Rewards[1].Options!["scope"]);
        var e = Fails(Valid.Replace("{ name: format, weight: 0.1 }", "{ name: format, weight: 0.1, scope: middle }"));
        Assert.Contains("rewards[1]: reward 'format': scope must be trace or answer, found 'middle'", e.Message);
    }

    [Fact]
    public void Json_and_yaml_share_the_schema()
    {
        var json = """
            {"name": "unit", "seed": 3, "model": {"preset": "tiny", "init_seed": 2, "threads": 1},
             "task": {"dataset": "builtin:arithmetic", "template": "r1-compact", "test_size": 50},
             "rewards": [{"name": "accuracy", "weight": 1.0}, {"name": "format", "weight": 0.1}],
             "stages": [{"name": "sft", "kind": "sft", "steps": 10, "batch_size": 4, "optimizer": {"lr": 1e-3, "warmup_steps": 2, "schedule": "cosine"}},
                        {"name": "rl", "kind": "grpo", "steps": 5, "prompts_per_step": 4, "group_size": 4,
                         "sampling": {"temperature": 1.0, "max_new_tokens": 48},
                         "loss": {"aggregation": "seq-mean-token-sum-norm", "clip_low": 0.2, "clip_high": 0.28, "dual_clip": 3.0},
                         "kl": {"coef": 0.01, "estimator": "k2"}, "overlong": {"mode": "penalty", "buffer": 8}, "optimizer": {"lr": 1e-4}}],
             "evaluation": {"dataset": "builtin:arithmetic?split=test&n=20", "samples": 4, "max_new_tokens": 48, "after": ["start", "sft", "rl"]}}
            """;
        var fromJson = JobFile.Load(Write(json, ".json"));
        var fromYaml = JobFile.Load(Write(Valid));
        Assert.Equal(fromYaml with { SourceFile = "", Stages = [], Rewards = [], Evaluation = null }, fromJson with { SourceFile = "", Stages = [], Rewards = [], Evaluation = null });
        Assert.Equal(fromYaml.Stages, fromJson.Stages);
        Assert.Equal(fromYaml.Rewards, fromJson.Rewards);
        Assert.Equal(fromYaml.Evaluation!.After, fromJson.Evaluation!.After);
    }

    [Fact]
    public void An_unknown_field_is_named_with_its_location()
    {
        var e = Fails(Valid.Replace("    batch_size: 4", "    batch_size: 4\n    bach_size: 8"));
        Assert.Matches(@"job\.yaml:16:5: stages\[0\]\.bach_size: unknown field; known here: .*batch_size", e.Message);
    }

    [Fact]
    public void A_wrong_type_says_what_was_expected()
    {
        var e = Fails(Valid.Replace("steps: 10", "steps: ten"));
        Assert.Matches(@"job\.yaml:14:12: stages\[0\]\.steps: expected an integer, found ""ten""", e.Message);
        e = Fails(Valid.Replace("sampling: { temperature: 1.0, max_new_tokens: 48 }", "sampling: [1.0, 48]"));
        Assert.Contains("stages[1].sampling: expected a mapping (key: value), found a list", e.Message);
    }

    [Fact]
    public void A_group_size_of_one_is_out_of_range()
    {
        var e = Fails(Valid.Replace("group_size: 4", "group_size: 1"));
        Assert.Matches(@"job\.yaml:\d+:\d+: stages\[1\]\.group_size: expected an integer in \[2, 65536\], found 1", e.Message);
    }

    [Fact]
    public void A_negative_learning_rate_is_out_of_range()
    {
        var e = Fails(Valid.Replace("optimizer: { lr: 1.0e-4 }", "optimizer: { lr: -1.0e-4 }"));
        Assert.Matches(@"job\.yaml:\d+:\d+: stages\[1\]\.optimizer\.lr: expected a number > 0, found -0\.0001", e.Message);
    }

    [Fact]
    public void Ppo_epochs_and_mini_batches_default_to_one_update_and_mini_batches_are_bounded_by_the_batch()
    {
        var rl = Assert.IsType<GrpoStageSpec>(JobFile.Load(Write(Valid)).Stages[1]);
        Assert.Equal((1, 1), (rl.PpoEpochs, rl.MiniBatches));
        var set = Valid.Replace("    prompts_per_step: 4\n", "    prompts_per_step: 4\n    ppo_epochs: 2\n    mini_batches: 4\n");
        rl = Assert.IsType<GrpoStageSpec>(JobFile.Load(Write(set)).Stages[1]);
        Assert.Equal((2, 4), (rl.PpoEpochs, rl.MiniBatches));
        Assert.Equal(("token", "tis"), (rl.Loss.Ratio, rl.Loss.Importance));
        Assert.Equal(0, rl.Sampling.MaxBatchTokens);
        var budget = Assert.IsType<GrpoStageSpec>(JobFile.Load(Write(Valid.Replace("max_new_tokens: 48 }", "max_new_tokens: 48, max_batch_tokens: 4096 }"))).Stages[1]);
        Assert.Equal(4096, budget.Sampling.MaxBatchTokens);
        var gspo = Assert.IsType<GrpoStageSpec>(JobFile.Load(Write(Valid.Replace("dual_clip: 3.0", "dual_clip: 3.0, ratio: sequence, importance: mis"))).Stages[1]);
        Assert.Equal(("sequence", "mis"), (gspo.Loss.Ratio, gspo.Loss.Importance));
        var defaults = Assert.IsType<GrpoStageSpec>(JobFile.Load(Write(Valid.Replace(", dual_clip: 3.0", ""))).Stages[1]);
        Assert.Equal(3.0, defaults.Loss.DualClip);   // on by default, as in veRL
        var e = Fails(Valid.Replace("    prompts_per_step: 4\n", "    prompts_per_step: 4\n    mini_batches: 17\n"));
        Assert.Matches(@"job\.yaml:\d+:\d+: stages\[1\]\.mini_batches: expected an integer in \[1, 16\], found 17", e.Message);
    }

    [Theory]
    [InlineData("aggregation: seq-mean-token-sum-norm", "aggregation: seq-mean", "stages[1].loss.aggregation: expected one of token-mean, seq-mean-token-mean, seq-mean-token-sum-norm")]
    [InlineData("estimator: k2", "estimator: k4", "stages[1].kl.estimator: expected one of k1, k2, k3")]
    [InlineData("clip_high: 0.28, dual_clip", "clip_high: 0.28, ratio: seq, dual_clip", "stages[1].loss.ratio: expected one of token, sequence")]
    [InlineData("clip_high: 0.28, dual_clip", "clip_high: 0.28, importance: ppo, dual_clip", "stages[1].loss.importance: expected one of tis, mis")]
    [InlineData("kind: grpo", "kind: ppo", "stages[1].kind: unknown stage kind \"ppo\"; known: sft, grpo, eval")]
    [InlineData("preset: tiny", "preset: huge", "model.preset: expected one of tiny, small, bench-10m")]
    [InlineData("after: [start, sft, rl]", "after: [start, sft, grpo]", "evaluation.after: \"grpo\" is not a stage")]
    [InlineData("{ name: format, weight: 0.1 }", "{ name: vibes, weight: 0.1 }", "rewards[1].name: expected one of")]
    public void Names_outside_the_registries_are_refused(string from, string to, string message)
    {
        var e = Fails(Valid.Replace(from, to));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Missing_required_fields_are_named()
    {
        var e = Fails(Valid.Replace("    prompts_per_step: 4\n", ""));
        Assert.Contains("stages[1].prompts_per_step: required field is missing", e.Message);
    }

    [Fact]
    public void A_missing_dataset_file_fails_at_load_not_mid_run()
    {
        var e = Fails(Valid.Replace("dataset: \"builtin:arithmetic?split=test&n=20\"", "dataset: /nonexistent/test.jsonl"));
        Assert.Contains("evaluation.dataset: /nonexistent/test.jsonl: dataset file not found", e.Message);
    }

    [Fact]
    public void A_dataset_with_bad_lines_is_rejected_unless_the_job_skips_them()
    {
        var data = Path.Combine(TinyModels.TempDir(), "eval.jsonl");
        File.WriteAllLines(data, ["{\"prompt\": \"Compute: 1 + 1\", \"answer\": \"2\"}", "{not json"]);
        var job = Valid.Replace("dataset: \"builtin:arithmetic?split=test&n=20\"", $"dataset: {data}");
        var e = Fails(job);
        Assert.Contains($"evaluation.dataset: {data}:2: not valid JSON", e.Message);
        var spec = JobFile.Load(Write(job.Replace("test_size: 50", "test_size: 50\n  bad_rows: skip")));
        Assert.True(spec.Task.SkipBadRows);
        // A row without an answer is no bad line: the evaluation's correctness reward cannot score it.
        File.WriteAllLines(data, ["{\"prompt\": \"Compute: 1 + 1\", \"answer\": \"2\"}", "{\"prompt\": \"no answer\"}"]);
        e = Fails(job);
        Assert.Contains($"evaluation.dataset: reward 'accuracy' compares with each problem's answer, but problem generic-2 of {data} has none (task.fields.answer, column 'answer')", e.Message);
    }

    [Fact]
    public void Effort_levels_are_known_levels_listed_once_and_prompts_take_turns_asking_for_them()
    {
        const string Efforts = "    optimizer: { lr: 1.0e-4 }\n    efforts: LEVELS\n  - { name: probe, kind: eval, max_new_tokens: 48, refine_rounds: 2, efforts: [high, low] }\n";
        string With(string levels) => Valid.Replace("    optimizer: { lr: 1.0e-4 }\n", Efforts.Replace("LEVELS", levels));
        var spec = JobFile.Load(Write(With("[low, medium, high]")));
        Assert.Equal(["low", "medium", "high"], Assert.IsType<GrpoStageSpec>(spec.Stages[1]).Efforts);
        var probe = Assert.IsType<EvalStageSpec>(spec.Stages[2]);
        Assert.Equal(2, probe.RefineRounds);
        Assert.Equal(["high", "low"], probe.Efforts);
        var unknown = Fails(With("[low, extreme]"));
        Assert.Contains("stages[1].efforts[1]: unknown effort 'extreme'; known: low, medium, high", unknown.Message);
        Assert.Contains("stages[1].efforts[1]: effort 'low' is listed twice", Fails(With("[low, low]")).Message);
        var sft = Assert.IsType<SftStageSpec>(JobFile.Load(Write(Valid.Replace("    batch_size: 4\n", "    batch_size: 4\n    efforts: [high]\n    no_think: 0.5\n"))).Stages[0]);
        Assert.Equal(["high"], sft.Efforts);
        Assert.Equal(0.5, sft.NoThink);
        Assert.Contains("stages[0].no_think", Fails(Valid.Replace("    batch_size: 4\n", "    batch_size: 4\n    no_think: 1.5\n")).Message);
        // Half the rows lose their reasoning (by seed), the rest and verbatim solutions keep theirs.
        var rows = Enumerable.Range(0, 400).Select(i => SftStage.Mode(new Problem(i.ToString(), "q", "1", "1+0=1"), 0.5, seed: 3, index: i)).ToList();
        Assert.InRange(rows.Count(r => r.Reasoning == ""), 160, 240);
        Assert.All(rows, r => Assert.True(r.Reasoning is "" or "1+0=1"));
        Assert.Equal("x", SftStage.Mode(new Problem("v", "q", "1", "r") { Solution = "x" }, 1.0, 3, 0).Solution);
        Assert.Equal(rows.Select(r => r.Reasoning), Enumerable.Range(0, 400).Select(i => SftStage.Mode(new Problem(i.ToString(), "q", "1", "1+0=1"), 0.5, 3, i).Reasoning));
        Assert.Equal("first", spec.Task.EffortLine);
        Assert.Equal("last", JobFile.Load(Write(Valid.Replace("  template: r1-compact\n", "  template: r1-compact\n  effort_line: last\n"))).Task.EffortLine);
        Assert.Contains("task.effort_line", Fails(Valid.Replace("  template: r1-compact\n", "  template: r1-compact\n  effort_line: middle\n")).Message);
        var problems = Enumerable.Range(0, 5).Select(i => new Problem(i.ToString(), "q", "1"));
        Assert.Equal(["low", "high", "low", "high", "low"], EffortLevels.Assign(problems, ["low", "high"]).Select(p => p.Effort));
    }

    [Fact]
    public void Reward_options_are_checked_at_load()
    {
        var e = Fails(Valid.Replace("{ name: format, weight: 0.1 }", "{ name: length, weight: 0.1, effort: extreme }"));
        Assert.Contains("rewards[1]: unknown effort 'extreme'", e.Message);
        var spec = JobFile.Load(Write(Valid.Replace("{ name: format, weight: 0.1 }", "{ name: length, weight: 0.1, effort: low }")));
        Assert.Equal("low", spec.Rewards[1].Options!["effort"]);
    }

    [Fact]
    public void Broken_yaml_reports_the_position()
    {
        var e = Fails("name: x\nstages: [\n");
        Assert.Contains("job.yaml:", e.Message);
        Assert.Contains("not valid YAML or JSON", e.Message);
    }

    [Theory]
    [InlineData("name: unit", "name: \"bad name!\"", "name: expected letters, digits")]
    [InlineData("model: { preset: tiny, init_seed: 2, threads: 1 }", "model: { preset: tiny, checkpoint: /tmp, threads: 1 }", "model.checkpoint: set preset or checkpoint, not both")]
    [InlineData("threads: 1 }", "threads: 1, device: tpu }", "model.device: expected auto, cpu, cuda or cuda:N")]
    [InlineData("  - name: rl", "  - name: sft", "stages[1].name: stage names must be unique")]
    [InlineData("after: [start, sft, rl]", "after: [start, sft, ppo]", "evaluation.after: \"ppo\" is not a stage")]
    [InlineData("overlong: { mode: penalty, buffer: 8 }", "overlong: { mode: penalty, buffer: 80 }", "stages[1].overlong.buffer: expected at most sampling.max_new_tokens (48)")]
    [InlineData("{ name: format, weight: 0.1 }", "{ name: http, weight: 0.1, url: ftp://x }", "rewards[1]: reward 'http': url must be an absolute http(s) URL")]
    [InlineData("template: r1-compact\n  test_size: 50", "template: r1-compact\n  test_size: 50\n  arithmetic: { operators: \"/\" }", "task.arithmetic: operators must be distinct characters")]
    public void Every_error_names_file_line_and_column(string from, string to, string message)
    {
        var e = Fails(Valid.Replace(from, to));
        Assert.Matches(@"job\.yaml:\d+:\d+: ", e.Message);
        Assert.Contains(message, e.Message);
    }
}
