using RolloutCluster.Cli;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Lora;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Training;

/// <summary>The LoRA job every test here reads, run through the grains and in process.</summary>
public sealed class LoraJobFixture : IAsyncLifetime
{
    public (int Code, string Out, string Err, string RunDir) Grains { get; private set; }
    public (int Code, string Out, string Err, string RunDir) InProcess { get; private set; }

    public async Task InitializeAsync()
    {
        Grains = await JobRunTests.Run(LoraJobTests.Job);
        InProcess = await JobRunTests.Run(LoraJobTests.Job, inProcess: true);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// A job that trains LoRA adapters (SFT, then GRPO with a KL term) end to end: the grains send each
/// version as the adapters alone over the base sent once, and reach the metrics of the in-process run;
/// a stopped job resumes to the metrics of an uninterrupted one; checkpoints are merged models.
/// </summary>
[Trait("speed", "slow")]   // whole jobs
[Collection("determinism")]
public sealed class LoraJobTests(LoraJobFixture fixture) : IClassFixture<LoraJobFixture>
{
    public const string Job = """
        name: e2e
        seed: 17
        model: { preset: tiny, init_seed: 5, threads: 1, lora: { rank: 4, alpha: 16, target_modules: [q_proj, v_proj, up_proj] } }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: accuracy, weight: 1.0 }, { name: format, weight: 0.1 } ]
        stages:
          - { name: sft, kind: sft, steps: 20, batch_size: 8, optimizer: { lr: 1.0e-2, warmup_steps: 2 } }
          - name: grpo
            kind: grpo
            steps: 6
            prompts_per_step: 4
            group_size: 4
            sampling: { temperature: 1.0, max_new_tokens: 24 }
            kl: { coef: 0.05 }
            optimizer: { lr: 1.0e-2 }
        evaluation: { dataset: "builtin:arithmetic?split=test&n=8", samples: 2, max_new_tokens: 24, after: [grpo] }
        checkpoint: { every_steps: 3 }
        """;

    [Fact]
    public void Through_the_grains_a_lora_job_sends_adapters_per_version_and_matches_the_in_process_run()
    {
        var (grains, local) = (fixture.Grains, fixture.InProcess);
        Assert.True(grains.Code == 0 && local.Code == 0, grains.Err + grains.Out + local.Err);
        MetricsFiles.AssertSame(MetricsFiles.Deterministic(grains.RunDir), MetricsFiles.Deterministic(local.RunDir));
        var rows = MetricsLog.Read(Path.Combine(grains.RunDir, "metrics.jsonl")).Where(r => r.Stage == "grpo" && r.Kind == "train").ToList();
        // The bytes of every A and B of rank 4 on q, v and up in the tiny preset's layers (float32), from the shapes alone.
        var preset = RolloutCluster.Model.ModelPresets.Get("tiny", TinyModels.Tokenizer.VocabSize);
        long adapters = LoraShapes.Expected(preset, new LoraConfig(4, 16, 0, ["q_proj", "v_proj", "up_proj"])).Values.Sum(shape => shape[0] * shape[1]) * 4;
        Assert.All(rows, r => Assert.Equal(adapters, r.Values["weights/version_bytes"]));
        long full = preset.ParameterCount() * 4;
        Assert.True(adapters < full / 10, $"{adapters} bytes per version against {full} for the whole model");
        Assert.Contains(rows, r => r.Values.GetValueOrDefault("actor/trained_sequences") > 0);
    }

    [Fact]
    public void A_lora_checkpoint_is_a_merged_model_with_its_adapter_that_eval_reads()
    {
        var dir = Path.Combine(fixture.InProcess.RunDir, "checkpoints", "grpo");
        Assert.True(File.Exists(Path.Combine(dir, Checkpoint.WeightsFile)));
        var adapter = LoraConfig.Load(Path.Combine(dir, Checkpoint.AdapterDirectory, LoraConfig.ConfigFile));
        Assert.Equal((4, 16.0), (adapter.Rank, adapter.Alpha));
        Assert.Null(Checkpoint.Load(dir).Model.Lora);
    }

    [Fact]
    public async Task A_lora_job_stopped_mid_grpo_resumes_to_the_metrics_of_an_uninterrupted_run()
    {
        var spec = JobFile.Parse(Job, "lora.yaml");
        var expected = MetricsFiles.Deterministic(fixture.InProcess.RunDir);
        var dir = Path.Combine(TinyModels.TempDir(), "e2e");
        using (var cancel = new CancellationTokenSource())
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                new JobRunner(spec, dir, new CancelAfter("grpo", 4, cancel), TimeProvider.System).RunAsync(cancel.Token));
        var point = ResumePoint.Latest(dir)!;
        Assert.Equal(("grpo", 4), (point.State.Stage, point.State.StepsDone));
        Assert.True(File.Exists(Path.Combine(point.Directory, Checkpoint.AdapterDirectory, LoraConfig.WeightsFile)));
        await new JobRunner(spec, dir, NullObserver.Instance, TimeProvider.System, resume: point).RunAsync();
        MetricsFiles.AssertSame(expected, MetricsFiles.Deterministic(dir));
    }
}
