using RolloutCluster.Algorithms;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Training;

/// <summary>
/// A job stopped mid-stage continues from its latest resumable checkpoint to exactly the metrics an
/// uninterrupted run writes: the model, optimizer moments and schedule, data cursor and weights version
/// are restored, and row seeds derive from the step.
/// </summary>
[Trait("speed", "slow")]   // whole jobs
[Collection("determinism")]
public sealed class ResumeTests
{
    const string Job = """
        name: resume
        seed: 13
        model: { preset: tiny, init_seed: 2, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: accuracy, weight: 1.0 }, { name: format, weight: 0.1 } ]
        stages:
          - { name: sft, kind: sft, steps: 40, batch_size: 8, optimizer: { lr: 3.0e-3, warmup_steps: 5, schedule: cosine } }
          - name: grpo
            kind: grpo
            steps: 12
            prompts_per_step: 4
            group_size: 4
            sampling: { temperature: 1.0, max_new_tokens: 24 }
            kl: { coef: 0.01 }
            optimizer: { lr: 1.0e-3, warmup_steps: 3 }
        evaluation: { dataset: "builtin:arithmetic?split=test&n=8", samples: 2, max_new_tokens: 24, after: [sft, grpo], every_steps: 6 }
        checkpoint: { every_steps: 5 }
        """;

    static JobSpec Spec() => JobFile.Parse(Job, "resume.yaml");


    static async Task<string> Uninterrupted()
    {
        var dir = Path.Combine(TinyModels.TempDir(), "resume");
        await new JobRunner(Spec(), dir, NullObserver.Instance, TimeProvider.System).RunAsync();
        return dir;
    }

    async Task<string> StoppedAndResumed(string stage, int step)
    {
        var dir = Path.Combine(TinyModels.TempDir(), "resume");
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new JobRunner(Spec(), dir, new CancelAfter(stage, step, cancel), TimeProvider.System).RunAsync(cancel.Token));
        var point = ResumePoint.Latest(dir);
        Assert.NotNull(point);
        Assert.Equal(stage, point.State.Stage);
        Assert.Equal(step, point.State.StepsDone);                    // the cancel checkpoint, not an older periodic one
        await new JobRunner(Spec(), dir, NullObserver.Instance, TimeProvider.System, resume: point).RunAsync();
        return dir;
    }

    [Fact]
    public async Task Resuming_mid_sft_and_mid_grpo_ends_with_the_metrics_of_an_uninterrupted_run()
    {
        var expected = MetricsFiles.Deterministic(await Uninterrupted());
        Assert.Equal(40 + 12 + 3, expected.Count);                     // train rows; evaluations after sft, at grpo step 6, after grpo
        MetricsFiles.AssertSame(expected, MetricsFiles.Deterministic(await StoppedAndResumed("sft", 17)));
        MetricsFiles.AssertSame(expected, MetricsFiles.Deterministic(await StoppedAndResumed("grpo", 8)));
    }

    [Fact]
    public async Task A_periodic_checkpoint_resumes_and_the_steps_after_it_are_redone_not_duplicated()
    {
        var expected = MetricsFiles.Deterministic(await Uninterrupted());
        var dir = Path.Combine(TinyModels.TempDir(), "resume");
        using (var cancel = new CancellationTokenSource())
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                new JobRunner(Spec(), dir, new CancelAfter("grpo", 8, cancel), TimeProvider.System).RunAsync(cancel.Token));
        // As if the process had died after step 8 without its cancel checkpoint: the latest left is the periodic one at step 5.
        Directory.Delete(Path.Combine(dir, "checkpoints", "grpo-step8"), recursive: true);
        var point = ResumePoint.Latest(dir)!;
        Assert.Equal(("grpo", 5, "periodic"), (point.State.Stage, point.State.StepsDone, point.State.Reason));
        await new JobRunner(Spec(), dir, NullObserver.Instance, TimeProvider.System, resume: point).RunAsync();
        // Steps 6-8 were trained by the "dead" run and redone: their 3 x 4 groups count as dispatched and failed.
        MetricsFiles.AssertSame(expected.Select(MetricsFiles.WithoutLostGroups), MetricsFiles.Deterministic(dir).Select(MetricsFiles.WithoutLostGroups));
        var last = MetricsLog.Read(Path.Combine(dir, "metrics.jsonl")).Last(r => r.Kind == "train").Values;
        Assert.Equal(12, last["groups/failed"]);
        Assert.Equal(last["groups/dispatched"], last["groups/trained"] + last["groups/failed"]);
    }

    [Fact]
    public async Task A_completed_job_has_nothing_to_resume()
    {
        var dir = await Uninterrupted();
        var point = ResumePoint.Latest(dir)!;
        Assert.Equal(2, point.State.StageIndex);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new JobRunner(Spec(), dir, NullObserver.Instance, TimeProvider.System, resume: point).RunAsync());
        Assert.Contains("already completed", e.Message);
    }
}
