using System.Diagnostics;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Deployment;

/// <summary>
/// `rollout run` killed with SIGKILL (silo, learner and generators all in that one process) and then
/// `rollout resume RUN_DIRECTORY` ends with the same metrics as an uninterrupted run: every
/// deterministic field of every row equal (timings excepted), so the tolerance is zero.
/// </summary>
[Collection("processes")]
[Trait("speed", "slow")]   // several processes: `./test.sh --filter "speed!=slow"` runs the fast tests alone
public sealed class KillAndResumeTests
{
    const string Job = """
        name: killed
        seed: 8
        model: { preset: tiny, init_seed: 6, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: accuracy, weight: 1.0 }, { name: format, weight: 0.1 } ]
        stages:
          - { name: sft, kind: sft, steps: 60, batch_size: 8, optimizer: { lr: 3.0e-3, warmup_steps: 5 } }
          - name: grpo
            kind: grpo
            steps: 40
            prompts_per_step: 4
            group_size: 4
            sampling: { temperature: 1.0, max_new_tokens: 24 }
            optimizer: { lr: 1.0e-3 }
        evaluation: { dataset: "builtin:arithmetic?split=test&n=8", samples: 2, max_new_tokens: 24, after: [sft, grpo] }
        checkpoint: { every_steps: 4 }
        """;


    [Fact]
    public async Task A_run_killed_mid_grpo_resumes_from_its_last_checkpoint_to_the_uninterrupted_metrics()
    {
        var reference = Path.Combine(TinyModels.TempDir(), "killed");
        await new JobRunner(JobFile.Parse(Job, "killed.yaml"), reference, NullObserver.Instance, TimeProvider.System).RunAsync();

        var dir = TinyModels.TempDir();
        var jobFile = Path.Combine(dir, "killed.yaml");
        File.WriteAllText(jobFile, Job);
        var runDirectory = Path.Combine(dir, "runs", "killed");
        var start = new ProcessStartInfo(LocalCluster.Cli[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in LocalCluster.Cli[1..].Concat(["run", jobFile, "--output", Path.Combine(dir, "runs"), "--dashboard-port", "0"])) start.ArgumentList.Add(a);
        using (var run = Process.Start(start)!)
        {
            _ = run.StandardOutput.ReadToEndAsync();
            _ = run.StandardError.ReadToEndAsync();
            var metrics = Path.Combine(runDirectory, "metrics.jsonl");
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
            // Past a periodic GRPO checkpoint (every 4 steps) and a few steps beyond it, then SIGKILL.
            // Between periodic checkpoints (steps 9-11 or 13-15), so the steps after the last one are lost.
            static int GrpoRows(string path) => File.Exists(path) ? File.ReadLines(path).Count(l => l.Contains("\"stage\":\"grpo\"")) : 0;
            while (GrpoRows(metrics) is var rows && !(rows >= 10 && rows % 4 != 0))
            {
                Assert.False(run.HasExited, "the run ended before it could be killed");
                Assert.True(DateTime.UtcNow < deadline, "the run did not reach GRPO step 10 in time");
                await Task.Delay(20);
            }
            run.Kill();
            await run.WaitForExitAsync();
        }
        int trainedBeforeKill = File.ReadLines(Path.Combine(runDirectory, "metrics.jsonl")).Count(l => l.Contains("\"stage\":\"grpo\"") && l.Contains("\"kind\":\"train\""));
        var point = ResumePoint.Latest(runDirectory)!;
        Assert.Equal("grpo", point.State.Stage);
        Assert.Equal("periodic", point.State.Reason);

        var (code, stdout, stderr) = ProcessRunner.Run(LocalCluster.Cli[0], [.. LocalCluster.Cli[1..], "resume", runDirectory, "--dashboard-port", "0"],
            workingDirectory: dir, timeout: TimeSpan.FromMinutes(4));
        Assert.True(code == 0, stdout + stderr);
        // The steps after the checkpoint were trained by the killed process and redone: their groups
        // count as dispatched and failed; every other field of every row is identical.
        MetricsFiles.AssertSame(MetricsFiles.Deterministic(reference).Select(MetricsFiles.WithoutLostGroups), MetricsFiles.Deterministic(runDirectory).Select(MetricsFiles.WithoutLostGroups));
        var last = MetricsLog.Read(Path.Combine(runDirectory, "metrics.jsonl")).Last(r => r.Kind == "train").Values;
        // At least the groups of every step trained after the checkpoint (4 prompts each) were lost and counted.
        int lostSteps = trainedBeforeKill - point.State.StepsDone;
        Assert.True(last["groups/failed"] >= lostSteps * 4, $"{last["groups/failed"]} groups counted as lost; {lostSteps} steps were trained after the checkpoint");
        Assert.Equal(last["groups/dispatched"], last["groups/trained"] + last["groups/failed"]);
    }
}
