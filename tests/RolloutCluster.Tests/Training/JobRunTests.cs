using RolloutCluster.Cli;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Training;

/// <summary>
/// The job every test here reads, run once through the grains and once in process (<see cref="JobRunFixture"/>):
/// one SFT + GRPO job small enough for a test run.
/// </summary>
public sealed class JobRunFixture : IAsyncLifetime
{
    public (int Code, string Out, string Err, string RunDir) Grains { get; private set; }
    public (int Code, string Out, string Err, string RunDir) InProcess { get; private set; }

    public async Task InitializeAsync()
    {
        Grains = await JobRunTests.Run(JobRunTests.Job);
        InProcess = await JobRunTests.Run(JobRunTests.Job, inProcess: true);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>A whole job (SFT, then GRPO) through `rollout run`.</summary>
[Trait("speed", "slow")]   // whole jobs
[Collection("determinism")]
public sealed class JobRunTests(JobRunFixture fixture) : IClassFixture<JobRunFixture>
{
    public const string Job = """
        name: e2e
        seed: 11
        model: { preset: tiny, init_seed: 5, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 40 }
        rewards: [ { name: accuracy, weight: 1.0 }, { name: format, weight: 0.1 } ]
        stages:
          - { name: sft, kind: sft, steps: 150, batch_size: 8, optimizer: { lr: 3.0e-3, warmup_steps: 10 } }
          - name: grpo
            kind: grpo
            steps: 3
            prompts_per_step: 4
            group_size: 4
            sampling: { temperature: 1.0, max_new_tokens: 40 }
            dynamic_sampling: true
            max_sampling_rounds: 2
            optimizer: { lr: 1.0e-4 }
        evaluation: { dataset: "builtin:arithmetic?split=test&n=16", samples: 4, max_new_tokens: 40, after: [sft, grpo] }
        checkpoint: { every_steps: 60 }
        """;

    public static async Task<(int Code, string Out, string Err, string RunDir)> Run(string job, bool inProcess = false)
    {
        var dir = TinyModels.TempDir();
        var path = Path.Combine(dir, "job.yaml");
        File.WriteAllText(path, job);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args = ["run", path, "--output", Path.Combine(dir, "runs"), "--dashboard-port", "0", .. (inProcess ? new[] { "--in-process" } : [])];
        int code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString(), Path.Combine(dir, "runs", "e2e"));
    }


    /// <summary>A job from the fixture's SFT checkpoint (it has learnt some arithmetic) with these rewards and stages (YAML list items).</summary>
    string FromSft(string rewards, string stages)
    {
        Assert.True(fixture.InProcess.Code == 0, fixture.InProcess.Err);
        return $$"""
            name: e2e
            seed: 11
            model: { checkpoint: {{SftCheckpoint}}, threads: 1 }
            task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 40 }
            rewards: {{rewards}}
            stages:
            {{stages}}
            """;
    }

    string SftCheckpoint => Path.Combine(fixture.InProcess.RunDir, "checkpoints", "sft");

    [Fact]
    public void A_job_runs_end_to_end_and_writes_its_outputs()
    {
        var (code, stdout, stderr, runDir) = fixture.Grains;
        Assert.True(code == 0, stderr + stdout);
        var rows = MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl"));
        Assert.Equal(150, rows.Count(r => r.Kind == "train" && r.Stage == "sft"));
        Assert.Equal(3, rows.Count(r => r.Kind == "train" && r.Stage == "grpo"));
        Assert.Equal(2, rows.Count(r => r.Kind == "eval"));
        // Format is learnt by then, so rewards differ within groups and the learner steps.
        var grpo = rows.First(r => r.Stage == "grpo" && r.Kind == "train" && r.Values.GetValueOrDefault("actor/trained_sequences") > 0).Values;
        foreach (var key in new[] { "actor/pg_loss", "actor/pg_clipfrac", "actor/entropy", "actor/ratio_max", "actor/grad_norm", "reward/mean", "reward/accuracy", "reward/format", "response/length_mean" })
            Assert.True(grpo.ContainsKey(key), key);
        Assert.True(File.Exists(Path.Combine(runDir, "plot.png")));
        Assert.True(new FileInfo(Path.Combine(runDir, "plot.png")).Length > 10_000);
        foreach (var checkpoint in new[] { "sft", "sft-step60", "sft-step120", "grpo" })
        {
            var dir = Path.Combine(runDir, "checkpoints", checkpoint);
            Assert.True(File.Exists(Path.Combine(dir, Checkpoint.WeightsFile)), checkpoint);
            Assert.Equal("r1-compact", RunInfo.Load(dir)!.Template);
        }
        Assert.Contains("pass@1", stdout);
        Assert.Contains("after grpo", stdout);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_in_process_and_through_the_grains()
    {
        var (grains, local) = (fixture.Grains, fixture.InProcess);
        Assert.True(grains.Code == 0 && local.Code == 0, grains.Err + local.Err);
        MetricsFiles.AssertSame(MetricsFiles.Deterministic(grains.RunDir), MetricsFiles.Deterministic(local.RunDir));
        // Evaluation went through the engine: the grains' report names the silo's generator, the process its own.
        var evalRow = File.ReadLines(Path.Combine(grains.RunDir, "metrics.jsonl")).First(l => l.Contains("\"kind\":\"eval\""));
        Assert.Matches("\"eval/generator/[^\"]+/cpu\":16", evalRow);
        Assert.Contains("\"eval/generator/local\":16", File.ReadLines(Path.Combine(local.RunDir, "metrics.jsonl")).First(l => l.Contains("\"kind\":\"eval\"")));
    }

    [Fact]
    public async Task A_bad_job_is_refused_before_anything_runs()
    {
        var (code, _, stderr, runDir) = await Run(Job.Replace("group_size: 4", "group_size: 1"));
        Assert.Equal(CliApp.BadInput, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^error: .*job\.yaml:\d+:\d+: stages\[1\]\.group_size: expected an integer in \[2, 65536\], found 1", stderr);
        Assert.False(Directory.Exists(runDir));
    }

    [Fact]
    public async Task Eval_reads_the_template_from_the_checkpoint()
    {
        var (code, _, stderr, runDir) = fixture.InProcess;
        Assert.True(code == 0, stderr);
        var stdout = new StringWriter();
        var err = new StringWriter();
        int evalCode = await CliApp.RunAsync(["eval", Path.Combine(runDir, "checkpoints", "grpo"), "--dataset", "builtin:arithmetic?split=test&n=8", "--samples", "3", "--threads", "1"],
            stdout, err);
        Assert.True(evalCode == 0, err.ToString());
        Assert.Contains("8 problems x 3 samples", stdout.ToString());
        Assert.Contains("r1-compact template", stdout.ToString());
        Assert.Matches(@"pass@1 \d+\.\d %\s+pass@3 \d+\.\d %\s+maj@3 \d+\.\d %", stdout.ToString());
    }

    [Fact]
    public async Task Rejection_sampling_keeps_verified_samples_that_a_later_sft_stage_trains_on()
    {
        // Through the grains.
        var job = FromSft("[ { name: accuracy, weight: 1.0 }, { name: format, weight: 0.1 } ]", """
              - { name: rs, kind: rejection-sampling, prompts: 48, samples: 8, keep_per_prompt: 2, sampling: { max_new_tokens: 40 } }
              - { name: again, kind: sft, dataset: stage:rs, steps: 3, batch_size: 4, optimizer: { lr: 1.0e-4 } }
            """);
        var (code, stdout, stderr, runDir) = await Run(job);
        Assert.True(code == 0, stderr + stdout);
        var rows = MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl"));
        var counts = Assert.Single(rows, r => r.Kind == "rejection").Values;
        Assert.Equal(48 * 8, counts["rejection/samples"]);
        Assert.InRange(counts["rejection/kept"], 1, 2 * counts["rejection/prompts_kept"]);
        Assert.Equal(counts["rejection/correct"], counts["rejection/kept"] + counts.Where(kv => kv.Key.StartsWith("rejection/dropped/", StringComparison.Ordinal)).Sum(kv => kv.Value));
        // Every kept row is right by an independent check (the answer it states against the problem's), and says where it came from.
        var dataset = File.ReadAllLines(Path.Combine(runDir, "datasets", "rs.jsonl")).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
        Assert.Equal(counts["rejection/kept"], dataset.Count);
        foreach (var row in dataset)
        {
            var stated = RolloutCluster.Rewards.Answers.AnswerExtraction.Extract((string)row["solution"]!);
            Assert.True(stated is not null && RolloutCluster.Rewards.Answers.MathEquivalence.Equivalent(stated, (string)row["answer"]!) == true, row.ToJsonString());
            Assert.InRange((int)row["provenance"]!["sample"]!, 0, 7);
            Assert.Matches("/cpu$", (string)row["provenance"]!["generator"]!);
        }
        Assert.Equal(3, rows.Count(r => r.Kind == "train" && r.Stage == "again"));
    }

    [Fact]
    public async Task A_teachers_verified_solutions_train_a_fresh_student()
    {
        // Distillation as two stages: the fixture's SFT model teaches (in this process), a new random model learns its verified solutions.
        // Same seed and prompts as the rejection-sampling test above, whose policy is this teacher: the same samples, so some are right.
        Assert.True(fixture.InProcess.Code == 0, fixture.InProcess.Err);
        string teacher = SftCheckpoint;
        var job = $$"""
            name: e2e
            seed: 11
            model: { preset: tiny, init_seed: 9, threads: 1 }
            task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 40 }
            rewards: [ { name: accuracy, weight: 1.0 } ]
            stages:
              - { name: teach, kind: rejection-sampling, teacher: {{teacher}}, prompts: 48, samples: 8, sampling: { max_new_tokens: 40 } }
              - { name: learn, kind: sft, dataset: stage:teach, steps: 2, batch_size: 4, optimizer: { lr: 1.0e-4 } }
            """;
        var (code, stdout, stderr, runDir) = await Run(job, inProcess: true);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("teach: teacher ", stdout + stderr);   // (the console wraps the path)
        var counts = Assert.Single(MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl")), r => r.Kind == "rejection").Values;
        Assert.True(counts["rejection/kept"] > 0, "the teacher got nothing right");
        foreach (var line in File.ReadLines(Path.Combine(runDir, "datasets", "teach.jsonl")))
        {
            var row = System.Text.Json.Nodes.JsonNode.Parse(line)!;
            var stated = RolloutCluster.Rewards.Answers.AnswerExtraction.Extract((string)row["solution"]!);
            Assert.True(stated is not null && RolloutCluster.Rewards.Answers.MathEquivalence.Equivalent(stated, (string)row["answer"]!) == true, line);
        }
        Assert.Equal(2, MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl")).Count(r => r.Kind == "train" && r.Stage == "learn"));
    }

    [Fact]
    public async Task A_grpo_stage_trains_on_a_reward_model_that_the_verifiers_load_themselves()
    {
        // Through the grains, from the fixture's SFT checkpoint, against a reward model made from it (a random head: the
        // fixture's model gets too little right for a reward-model stage to learn from; that stage is tested on its own).
        Assert.True(fixture.InProcess.Code == 0, fixture.InProcess.Err);
        string rm = TinyModels.TempDir();
        var loaded = Checkpoint.Load(SftCheckpoint);
        using (var policy = loaded.Model)
        using (var model = RolloutCluster.Model.Reward.RewardModel.FromPolicy(policy, seed: 3))
            model.Save(rm, loaded.Tokenizer);
        var job = FromSft("[ { name: accuracy, weight: 1.0 } ]", $$"""
              - name: rl
                kind: grpo
                steps: 2
                prompts_per_step: 4
                group_size: 4
                sampling: { max_new_tokens: 40 }
                optimizer: { lr: 1.0e-4 }
                rewards: [ { name: model, path: "{{rm}}" }, { name: accuracy, weight: 0 } ]
            """);
        var (code, stdout, stderr, runDir) = await Run(job);
        Assert.True(code == 0, stderr + stdout);
        var steps = MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl")).Where(r => r.Kind == "train" && r.Stage == "rl").Select(r => r.Values).ToList();
        Assert.Equal(2, steps.Count);
        foreach (var step in steps)
        {
            Assert.InRange(step["reward/model"], 1e-6, 1 - 1e-6);   // a probability
            Assert.True(step["reward/std"] > 0, "every completion got the same score");
            Assert.Equal(step["reward/model"], step["reward/mean"], 9);   // accuracy weighs nothing, but is logged
            Assert.True(step.ContainsKey("reward/accuracy"));
        }
    }

    [Fact]
    public async Task An_eval_stage_refines_with_feedback_and_asks_for_each_effort_through_the_grains()
    {
        var job = FromSft("[ { name: accuracy, weight: 1.0 } ]", """
              - { name: probe, kind: eval, dataset: "builtin:arithmetic?split=test&n=8", samples: 2, max_new_tokens: 40, refine_rounds: 2, efforts: [low, high] }
            """);
        var (code, stdout, stderr, runDir) = await Run(job);
        Assert.True(code == 0, stderr + stdout);
        var eval = Assert.Single(MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl")), r => r.Kind == "eval").Values;
        foreach (var curve in new[] { "refine", "resample" })
        {
            Assert.InRange(eval[$"eval/{curve}@1"], eval["eval/pass@1"], 1);   // a sample once right stays right
            Assert.InRange(eval[$"eval/{curve}@2"], eval[$"eval/{curve}@1"], 1);
        }
        foreach (var level in new[] { "low", "high" })
        {
            Assert.InRange(eval[$"eval/effort/{level}/pass@1"], 0, 1);
            Assert.True(eval[$"eval/effort/{level}/length_mean"] > 0);
        }
        Assert.Contains("self-refinement, accuracy by feedback round", stdout);
        Assert.Contains("probe: effort high: pass@1", stdout + stderr);
    }
}
