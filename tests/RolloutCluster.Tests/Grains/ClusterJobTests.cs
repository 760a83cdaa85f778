using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using RolloutCluster.Abstractions;
using RolloutCluster.Grains;
using RolloutCluster.Training.Runtime;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Tests.Grains;

/// <summary>Jobs through the control, learner, generator and verifier grains of a two-silo cluster.</summary>
[Trait("speed", "slow")]   // a whole cluster and jobs on it
[Collection("cluster")]
public sealed class ClusterJobTests(ClusterFixture fixture)
{
    /// <summary>
    /// A GRPO job small enough for a test. The language reward (share of Latin letters) differs
    /// between random completions, so groups have signal and the learner steps from the start.
    /// </summary>
    internal static string Job(string name, int staleness = 0, int steps = 6) => $$"""
        name: {{name}}
        seed: 5
        model: { preset: tiny, init_seed: 3, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: language, weight: 1.0 } ]
        stages:
          - name: rl
            kind: grpo
            steps: {{steps}}
            prompts_per_step: 4
            group_size: 4
            max_staleness: {{staleness}}
            sampling: { temperature: 1.0, max_new_tokens: 12 }
            optimizer: { lr: 1.0e-3 }
        """;

    Task<(JobInfo Info, List<Dictionary<string, double>> Steps)> RunAsync(string name, string text, TimeSpan timeout) => RunAsync(fixture.Control, name, text, timeout);

    /// <summary>Submits a job through control, waits for it to end and returns its last status and training steps.</summary>
    internal static async Task<(JobInfo Info, List<Dictionary<string, double>> Steps)> RunAsync(IControlGrain control, string name, string text, TimeSpan timeout)
    {
        var runs = TinyModels.TempDir();
        var submitted = await control.SubmitAsync(new JobSubmission(text, $"{name}.yaml", Path.Combine(runs, name)));
        Assert.True(submitted.Accepted, submitted.Error);
        var deadline = DateTime.UtcNow + timeout;
        JobInfo info;
        do
        {
            await Task.Delay(200);
            info = (await control.StatusAsync(name)).Job!;
        }
        while (info.State is JobState.Pending or JobState.Running && DateTime.UtcNow < deadline);
        var steps = MetricsLog.Read(Path.Combine(runs, name, "metrics.jsonl")).Where(r => r.Kind == "train").Select(r => r.Values).ToList();
        return (info, steps);
    }

    [Fact]
    public async Task A_job_runs_end_to_end_across_both_silos_and_every_group_is_accounted_for()
    {
        var (info, steps) = await RunAsync("cluster-e2e", Job("cluster-e2e"), TimeSpan.FromMinutes(3));
        Assert.True(info.State == JobState.Completed, $"{info.State}: {info.Message}");
        Assert.Equal(6, steps.Count);
        var g = info.Groups;
        Assert.True(g.Balanced, JsonSerializer.Serialize(g));
        Assert.Equal(0, g.InFlight);
        Assert.Equal(24, g.Trained);                                     // 6 steps x 4 prompts, synchronous: nothing dropped
        Assert.Equal(2, g.BySource.Keys.Select(k => k.Split('/')[0]).Distinct().Count());   // generators on both silos
        Assert.All(g.BySource.Values, n => Assert.True(n > 0));
        Assert.True(steps.Count(s => s.GetValueOrDefault("actor/trained_sequences") > 0) >= 3, "the learner should step on most batches");
        // The learner's silo shares its own buffers; the other fetches them over the weight server's TCP.
        Assert.Equal(["local", "tcp"], Services<WeightCache>().Select(c => c.LastRoute).Order());
    }

    IEnumerable<T> Services<T>() where T : notnull =>
        fixture.Cluster.Silos.Select(s => ((InProcessSiloHandle)s).SiloHost.Services.GetRequiredService<T>());

    [Fact]
    public async Task When_the_weight_server_cannot_be_reached_weights_come_in_chunks_through_the_grains()
    {
        var published = Services<PublishedWeights>().ToList();
        var endpoints = published.Select(p => p.TransferEndpoint).ToList();
        Assert.All(endpoints, Assert.NotNull);
        try
        {
            // Announce a port nobody listens on: the fetch fails, is logged, and falls back.
            foreach (var p in published) p.TransferEndpoint = $"127.0.0.1:{RolloutCluster.Silo.LoopbackPorts.Free()}";
            var (info, steps) = await RunAsync("cluster-chunks", Job("cluster-chunks", steps: 3), TimeSpan.FromMinutes(3));
            Assert.True(info.State == JobState.Completed, $"{info.State}: {info.Message}");
            Assert.Equal(3, steps.Count);
            Assert.Equal(["chunks", "local"], Services<WeightCache>().Select(c => c.LastRoute).Order());
        }
        finally
        {
            foreach (var (p, e) in published.Zip(endpoints)) p.TransferEndpoint = e;
        }
    }

    [Fact]
    public async Task With_max_staleness_zero_every_group_is_trained_by_the_version_that_sampled_it()
    {
        var (info, steps) = await RunAsync("cluster-sync", Job("cluster-sync", staleness: 0), TimeSpan.FromMinutes(3));
        Assert.Equal(JobState.Completed, info.State);
        Assert.All(steps, s => Assert.Equal(0, s["batch/version_lag_max"]));
        Assert.True(steps.Last()["batch/weights_version"] >= 3);
    }

    [Fact]
    public async Task With_max_staleness_two_no_group_is_older_than_two_versions()
    {
        var (info, steps) = await RunAsync("cluster-async", Job("cluster-async", staleness: 2, steps: 8), TimeSpan.FromMinutes(3));
        Assert.Equal(JobState.Completed, info.State);
        Assert.All(steps, s => Assert.InRange(s["batch/version_lag_max"], 0, 2));
        Assert.Contains(steps, s => s["batch/version_lag_max"] >= 1);    // rollouts really ran ahead of the learner
        Assert.True(info.Groups.Balanced, JsonSerializer.Serialize(info.Groups));
    }

    [Fact]
    public async Task Cancel_stops_the_job_promptly_and_leaves_a_resumable_checkpoint()
    {
        var runs = TinyModels.TempDir();
        const string name = "cluster-cancel";
        var submitted = await fixture.Control.SubmitAsync(new JobSubmission(Job(name, steps: 1000), $"{name}.yaml", Path.Combine(runs, name)));
        Assert.True(submitted.Accepted, submitted.Error);
        JobInfo info;
        do
        {
            await Task.Delay(200);
            info = (await fixture.Control.StatusAsync(name)).Job!;
        }
        while (info.Step < 2);
        var asked = DateTime.UtcNow;
        var cancel = await fixture.Control.CancelAsync(name);
        Assert.Null(cancel.Error);
        do
        {
            await Task.Delay(100);
            info = (await fixture.Control.StatusAsync(name)).Job!;
        }
        while (info.State == JobState.Running && DateTime.UtcNow - asked < TimeSpan.FromSeconds(30));
        Assert.Equal(JobState.Cancelled, info.State);
        Assert.True(DateTime.UtcNow - asked < TimeSpan.FromSeconds(10), $"took {DateTime.UtcNow - asked}");
        Assert.True(info.Step < 1000);
        var checkpoint = Directory.GetDirectories(Path.Combine(runs, name, "checkpoints")).Single(d => File.Exists(Path.Combine(d, ResumeState.FileName)));
        var resume = ResumeState.Load(checkpoint)!;
        Assert.Equal("rl", resume.Stage);
        Assert.True(resume.StepsDone >= 2);
        Assert.Equal("cancelled", resume.Reason);
        Assert.True(File.Exists(Path.Combine(checkpoint, ResumeState.OptimizerFile)));
        Assert.True(File.Exists(Path.Combine(checkpoint, "model.safetensors")));
        Assert.True(info.Groups.Balanced, JsonSerializer.Serialize(info.Groups));
    }

    [Fact]
    public async Task A_job_over_its_memory_limit_fails_alone_with_the_reason_and_the_silos_keep_serving()
    {
        // A limit far below what any process holds: the job stops at its first check.
        var (failed, steps) = await RunAsync("over-memory", Job("over-memory") + "\nmemory_limit_gb: 0.01\n", TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Matches(@"^job over-memory stopped at rl step 1: its process holds [0-9.]+ GiB of memory, over the job's limit of 0\.01 GiB \(memory_limit_gb", failed.Message);
        Assert.Empty(steps);
        var (next, nextSteps) = await RunAsync("after-memory", Job("after-memory", steps: 2), TimeSpan.FromMinutes(2));
        Assert.True(next.State == JobState.Completed, $"{next.State}: {next.Message}");
        Assert.Equal(2, nextSteps.Count);
    }

    [Fact]
    public async Task An_invalid_job_gets_the_validation_error_back_through_the_control_grain()
    {
        var result = await fixture.Control.SubmitAsync(new JobSubmission(Job("bad").Replace("group_size: 4", "group_size: 1"), "bad.yaml"));
        Assert.False(result.Accepted);
        Assert.Matches(@"^bad\.yaml:\d+:\d+: stages\[0\]\.group_size: expected an integer in \[2, 65536\], found 1$", result.Error);
        Assert.Contains("no job named \"bad\"", (await fixture.Control.StatusAsync("bad")).Error!);
    }

    [Fact]
    public async Task A_missing_dataset_fails_at_submit_not_mid_run()
    {
        var text = Job("no-data") + "\nevaluation: { dataset: /nonexistent/eval.jsonl, samples: 2, max_new_tokens: 8, after: [rl] }\n";
        var result = await fixture.Control.SubmitAsync(new JobSubmission(text, "no-data.yaml"));
        Assert.False(result.Accepted);
        Assert.Contains("evaluation.dataset: /nonexistent/eval.jsonl: dataset file not found", result.Error);
    }

    [Fact]
    public async Task Cancelling_an_unknown_job_says_so()
    {
        var result = await fixture.Control.CancelAsync("never-submitted");
        Assert.Null(result.Job);
        Assert.StartsWith("no job named \"never-submitted\"", result.Error);
    }

    [Fact]
    public async Task A_second_job_with_the_same_name_is_refused()
    {
        var first = await fixture.Control.SubmitAsync(new JobSubmission(Job("twice", steps: 2), "twice.yaml", Path.Combine(TinyModels.TempDir(), "twice")));
        Assert.True(first.Accepted, first.Error);
        var second = await fixture.Control.SubmitAsync(new JobSubmission(Job("twice", steps: 2), "twice.yaml"));
        Assert.False(second.Accepted);
        Assert.Contains("a job named \"twice\" already exists", second.Error);
    }
}
