using System.Text.RegularExpressions;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Deployment;

/// <summary>
/// Evaluation runs through the rollout engine, so on a 3-silo cluster (three processes, Redis
/// clustering) its requests spread over every silo's generator, and the report counts them per silo.
/// </summary>
[Collection("processes")]
[Trait("speed", "slow")]   // several processes
public sealed partial class EvalSpreadTests
{
    const string Job = """
        name: evalspread
        seed: 3
        model: { preset: tiny, init_seed: 2, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 384 }
        rewards: [ { name: accuracy } ]
        stages:
          - { name: heldout, kind: eval, samples: 2, max_new_tokens: 16 }
        """;

    [GeneratedRegex("^eval/generator/(.+)/cpu$")]
    private static partial Regex Generator();

    [Fact]
    public void An_eval_stage_on_three_silos_samples_on_all_of_them()
    {
        using var cluster = LocalCluster.Up(3);
        var jobFile = Path.Combine(cluster.State, "evalspread.yaml");
        File.WriteAllText(jobFile, Job);
        var runDirectory = Path.Combine(cluster.Runs, "evalspread");
        var submit = ProcessRunner.Run(LocalCluster.Cli[0], [.. LocalCluster.Cli[1..], "submit", jobFile, "--cluster", cluster.Connection, "--run-directory", runDirectory]);
        Assert.True(submit.ExitCode == 0, submit.Stderr + submit.Stdout);
        var watch = ProcessRunner.Run(LocalCluster.Cli[0], [.. LocalCluster.Cli[1..], "watch", "evalspread", "--cluster", cluster.Connection], timeout: TimeSpan.FromMinutes(4));
        Assert.True(watch.ExitCode == 0, watch.Stderr + watch.Stdout);

        var eval = MetricsLog.Read(Path.Combine(runDirectory, "metrics.jsonl")).Single(r => r.Kind == "eval").Values;
        Assert.Equal(384, eval["eval/problems"]);
        var bySilo = eval.Where(kv => Generator().IsMatch(kv.Key)).ToDictionary(kv => Generator().Match(kv.Key).Groups[1].Value, kv => kv.Value);
        Assert.True(bySilo.Count == 3, $"expected problems on 3 silos, found: {string.Join(", ", bySilo.Select(kv => $"{kv.Key}={kv.Value}"))}");
        Assert.Equal(384, bySilo.Values.Sum());
        Assert.All(bySilo.Values, n => Assert.True(n >= 384 / 3 / 2, $"uneven spread: {string.Join(", ", bySilo.Values)}"));
    }
}
