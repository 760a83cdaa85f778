using System.Text.Json;
using RolloutCluster.Abstractions;
using RolloutCluster.Cli.Cluster;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;
using Xunit.Abstractions;

namespace RolloutCluster.Tests.Deployment;

/// <summary>
/// Redis and three silo processes; a job submitted through the CLI loses (SIGKILL) a silo that hosts
/// generators, then the silo that hosts its learner, and still completes: same step count and data
/// order as an undisturbed run with the same seed, every group accounted for.
/// </summary>
[Collection("processes")]
[Trait("speed", "slow")]   // several processes: `./test.sh --filter "speed!=slow"` runs the fast tests alone
public sealed class FailoverTests(ITestOutputHelper output)
{
    // Long enough that both kills land mid-run: after its gateway silo dies, the test's client is blind
    // for a response timeout (3 s here) while the job goes on; with Orleans' default 30 s, 120 steps
    // once finished inside that blind spot.
    const int StepCount = 60;

    static string Job(bool lora) => $$"""
        name: failover
        seed: 21
        model: { preset: tiny, init_seed: 4, threads: 1{{(lora ? ", lora: { rank: 4 }" : "")}} }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: language, weight: 1.0 } ]
        stages:
          - name: rl
            kind: grpo
            steps: {{StepCount}}
            prompts_per_step: 6
            group_size: 4
            sampling: { temperature: 1.0, max_new_tokens: 16 }
            optimizer: { lr: 1.0e-3 }
        checkpoint: { every_steps: 5 }
        """;

    static List<double> Digests(string runDirectory) =>
        MetricsLog.Read(Path.Combine(runDirectory, "metrics.jsonl")).Where(r => r.Kind == "train").Select(r => r.Values["batch/prompt_digest"]).ToList();

    static List<int> Steps(string runDirectory) =>
        MetricsLog.Read(Path.Combine(runDirectory, "metrics.jsonl")).Where(r => r.Kind == "train").Select(r => r.Step).ToList();

    async Task<JobInfo> WaitAsync(ClusterClient client, Func<JobInfo, bool> until, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        JobInfo? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = (await client.Control.StatusAsync("failover")).Job ?? last;
                if (last is not null && until(last)) return last;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException) { output.WriteLine($"status: {e.GetType().Name}: {e.Message.Split('\n')[0]}"); }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{what} not reached in {timeout}; last status: {JsonSerializer.Serialize(last)}");
    }

    /// <param name="lora">Train LoRA adapters: the restarted learner publishes the frozen base again under a new epoch and generators fetch it once more.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_job_survives_losing_a_generator_silo_and_then_its_learners_silo(bool lora)
    {
        var reference = Path.Combine(TinyModels.TempDir(), "failover");
        await new JobRunner(JobFile.Parse(Job(lora), "failover.yaml"), reference, NullObserver.Instance, TimeProvider.System).RunAsync();

        using var cluster = LocalCluster.Up(3);
        var jobFile = Path.Combine(cluster.State, "failover.yaml");
        File.WriteAllText(jobFile, Job(lora));
        var runDirectory = Path.Combine(cluster.Runs, "failover");
        var (code, stdout, stderr) = ProcessRunner.Run(LocalCluster.Cli[0],
            [.. LocalCluster.Cli[1..], "submit", jobFile, "--cluster", cluster.Connection, "--run-directory", runDirectory]);
        Assert.True(code == 0, stdout + stderr);
        await using var client = await ClusterClient.ConnectAsync(cluster.Connection, "127.0.0.1:0", "rollout", "rollout-cluster", null, CancellationToken.None,
            responseTimeout: TimeSpan.FromSeconds(3));
        try
        {
            var info = await WaitAsync(client, j => j.Step >= 7 && j.Host is not null, TimeSpan.FromMinutes(3), "step 7");
            Assert.Equal(3, info.Groups.BySource.Keys.Select(k => k.Split('/')[0]).Distinct().Count());   // every silo generates
            int learnerPort = int.Parse(info.Host!.Split(':')[1]);
            var generatorOnly = cluster.Silos.First(s => s.Value.SiloPort != learnerPort);
            output.WriteLine($"step {info.Step}: SIGKILL silo {generatorOnly.Key} (generators only); learner on {info.Host}");
            LocalCluster.Kill(generatorOnly.Value.Pid);

            info = await WaitAsync(client, j => j.Step >= 14 && j.Host is not null || j.State is not (JobState.Running or JobState.Pending), TimeSpan.FromMinutes(3), "step 14 after losing a generator silo");
            Assert.True(info.State == JobState.Running, $"the job ended ({info.State}, step {info.Step}) before its learner's silo could be killed");
            var learnerSilo = cluster.Silos.Single(s => s.Value.SiloPort == int.Parse(info.Host!.Split(':')[1]));
            output.WriteLine($"step {info.Step}: SIGKILL silo {learnerSilo.Key}, which hosts the learner");
            LocalCluster.Kill(learnerSilo.Value.Pid);

            info = await WaitAsync(client, j => j.State is not (JobState.Running or JobState.Pending), TimeSpan.FromMinutes(4), "the end of the job");
            output.WriteLine(JsonSerializer.Serialize(info with { LatestMetrics = new Dictionary<string, double>() }));
            Assert.True(info.State == JobState.Completed, $"{info.State}: {info.Message}");
            // Started once and restarted at least once from a checkpoint (losing a silo can also cost the
            // learner its directory entry, which deactivates it and restarts it a further time).
            Assert.True(info.Epoch >= 2, $"epoch {info.Epoch}");
            var survivor = cluster.Silos.Single(s => s.Key != generatorOnly.Key && s.Key != learnerSilo.Key);
            Assert.Contains("restarting it on", cluster.Log(survivor.Key));      // the learner came back on the last silo standing

            var g = info.Groups;
            Assert.True(g.Balanced, JsonSerializer.Serialize(g));
            Assert.Equal(0, g.InFlight);
            Assert.Equal(StepCount * 6, g.Trained);                              // every step trained its 6 groups once
            Assert.Equal(Enumerable.Range(1, StepCount), Steps(runDirectory));  // each step once, none lost or repeated
            Assert.Equal(Digests(reference), Digests(runDirectory));            // the same prompts in the same order
        }
        catch
        {
            foreach (var silo in cluster.Silos.Keys) output.WriteLine($"--- silo {silo} log (tail)\n{string.Join('\n', cluster.Log(silo).Split('\n').TakeLast(30))}");
            throw;
        }
    }
}

[CollectionDefinition("processes", DisableParallelization = true)]
public sealed class ProcessCollection;
