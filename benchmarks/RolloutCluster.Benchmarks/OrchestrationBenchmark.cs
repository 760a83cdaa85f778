using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Configuration;
using RolloutCluster.Abstractions;
using RolloutCluster.Grains;
using RolloutCluster.Silo;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// The grain pipeline's own cost, on an embedded silo. (1) Generator utilization — the share of a GRPO
/// job's wall time the generator spends sampling — for max_staleness 0, 1 and 2 with the real tiny
/// model, runs interleaved so machine noise hits each alike. (2) The cluster's ceiling: the same job
/// shape with <see cref="InstantGeneratorGrain"/> in place of the real generator, in groups per second
/// end to end (learner included) and as seen by the learner while it waits for rollouts.
/// </summary>
public static class OrchestrationBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        int steps = args.Int("steps", 16), prompts = args.Int("prompts", 8), group = args.Int("group", 8);
        int tokens = args.Int("new-tokens", 48), rounds = args.Int("rounds", 2), instantSteps = args.Int("instant-steps", 60);
        string output = Path.Combine(Path.GetTempPath(), $"rollout-orchestration-{Environment.ProcessId}");
        int n = 0;
        await using (var silo = await StartAsync(instant: false))
        {
            for (int round = 0; round < rounds; round++)
                foreach (int staleness in new[] { 0, 1, 2 })
                {
                    var job = Job($"util-{n++}", staleness, steps, prompts, group, tokens, "language");
                    var before = Busy(silo);
                    var (info, wall, waitSeconds) = await RunJobAsync(silo, job, Path.Combine(output, $"util-{n}"));
                    double busy = Busy(silo) - before;
                    Emit(new { scenario = "generator_utilization", round, max_staleness = staleness, steps, prompts, group, new_tokens = tokens,
                        wall_s = Math.Round(wall, 2), sampling_s = Math.Round(busy, 2), utilization = Math.Round(busy / wall, 3),
                        steps_per_s = Math.Round(steps / wall, 3), learner_wait_share = Math.Round(waitSeconds / wall, 3),
                        groups = info.Groups with { BySource = new Dictionary<string, long>() } });
                }
        }
        await using (var silo = await StartAsync(instant: true))
        {
            foreach (int staleness in new[] { 0, 2 })
            {
                var job = Job($"instant-{n++}", staleness, instantSteps, 16, group, tokens, "accuracy");
                var (info, wall, waitSeconds) = await RunJobAsync(silo, job, Path.Combine(output, $"instant-{n}"));
                Emit(new { scenario = "instant_generator", max_staleness = staleness, steps = instantSteps, prompts = 16, group,
                    groups_dispatched = info.Groups.Dispatched, groups_trained = info.Groups.Trained, wall_s = Math.Round(wall, 2),
                    end_to_end_groups_per_s = Math.Round(info.Groups.Dispatched / wall, 1),
                    rollout_groups_per_s = Math.Round(info.Groups.Dispatched / Math.Max(waitSeconds, 1e-9), 1) });
            }
        }
        Directory.Delete(output, recursive: true);
        return 0;
    }

    static string Job(string name, int staleness, int steps, int prompts, int group, int tokens, string reward) => $$"""
        name: {{name}}
        seed: 7
        model: { preset: tiny, init_seed: 3, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: {{reward}}, weight: 1.0 } ]
        stages:
          - name: rl
            kind: grpo
            steps: {{steps}}
            prompts_per_step: {{prompts}}
            group_size: {{group}}
            max_staleness: {{staleness}}
            sampling: { temperature: 1.0, max_new_tokens: {{tokens}} }
            optimizer: { lr: 1.0e-4 }
        """;

    static async Task<WebApplication> StartAsync(bool instant)
    {
        var config = new SiloConfig { SiloPort = LoopbackPorts.Free(), GatewayPort = LoopbackPorts.Free(), DashboardPort = 0, Devices = "cpu" };
        // The instant generator takes the real one's place for IGeneratorGrain on this silo.
        Action<ISiloBuilder>? swap = instant
            ? silo => silo.Services.PostConfigure<GrainTypeOptions>(o => { o.Classes.Remove(typeof(GeneratorGrain)); o.Classes.Add(typeof(InstantGeneratorGrain)); })
            : null;
        var app = RolloutSiloHost.Build(config, configureSilo: swap);
        await app.StartAsync();
        var directory = app.Services.GetRequiredService<IGrainFactory>().GetGrain<IGeneratorDirectoryGrain>(0);
        for (int i = 0; i < 100 && (await directory.GetAsync()).Count == 0; i++) await Task.Delay(100);
        return app;
    }

    /// <summary>Runs a job to completion; returns its final info, its wall time, and how long the learner waited for rollouts.</summary>
    static async Task<(JobInfo Info, double Wall, double WaitSeconds)> RunJobAsync(WebApplication silo, string job, string runDirectory)
    {
        var control = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IControlGrain>(0);
        string name = job.Split('\n')[0]["name: ".Length..].Trim();
        var clock = Stopwatch.StartNew();
        var submitted = await control.SubmitAsync(new JobSubmission(job, $"{name}.yaml", runDirectory));
        if (!submitted.Accepted) throw new InvalidOperationException(submitted.Error);
        JobInfo info;
        do
        {
            await Task.Delay(20);
            info = (await control.StatusAsync(name)).Job!;
        }
        while (info.State is JobState.Pending or JobState.Running);
        double wall = clock.Elapsed.TotalSeconds;
        if (info.State != JobState.Completed) throw new InvalidOperationException($"{name}: {info.State}: {info.Message}");
        double wait = MetricsLog.Read(Path.Combine(runDirectory, "metrics.jsonl")).Where(r => r.Kind == "train")
            .Sum(r => r.Values.GetValueOrDefault("timing/sample_s"));
        return (info, wall, wait);
    }

    static double Busy(WebApplication silo) => silo.Services.GetRequiredService<GeneratorActivity>().Snapshot().Values.Sum(t => t.SampleSeconds);

    static void Emit(object o) => Console.WriteLine(JsonSerializer.Serialize(o));
}
