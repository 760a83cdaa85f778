using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RolloutCluster.Data;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// Sandboxed test executions per second on HumanEval's canonical solutions (prompt + solution + tests
/// + check) against plain unsandboxed `python3 -I -S` subprocesses, one per program, with the same
/// parallelism; both through the same CodeReward, alternating for several rounds.
/// </summary>
public static class SandboxBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        var path = args.Get("humaneval", "../shared/data/humaneval/HumanEval.jsonl");
        int parallel = args.Int("parallel", Environment.ProcessorCount), rounds = args.Int("rounds", 3);
        var tasks = new RolloutCluster.Data.Datasets.DatasetSource(path, "humaneval").Load().Problems;
        var inputs = tasks.Select(t => new RewardInput(t.Solution!, Prompt: t.Question, Tests: t.Tests, EntryPoint: t.EntryPoint)).ToList();
        var options = new SandboxOptions { Lanes = parallel };
        await using var sandbox = await CodeSandbox.CreateAsync(options, NullLogger.Instance);
        await using var plain = new SubprocessRunner(options, limits: false);
        var ratios = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            var s = await Measure("sandbox", new CodeReward(sandbox), inputs, parallel, round);
            var p = await Measure("plain_subprocess", new CodeReward(plain), inputs, parallel, round);
            ratios.Add(s / p);
        }
        Console.WriteLine(JsonSerializer.Serialize(new { scenario = "sandbox_vs_plain", parallel, programs = inputs.Count, rounds, ratio_median = Math.Round(ratios.Order().ElementAt(ratios.Count / 2), 2), ratios = ratios.Select(r => Math.Round(r, 2)) }));
        return 0;
    }

    static async Task<double> Measure(string name, CodeReward reward, List<RewardInput> inputs, int parallel, int round)
    {
        var clock = Stopwatch.StartNew();
        int passed = 0;
        await Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (input, ct) =>
        {
            if ((await reward.ScoreAsync(input, ct)).Value == 1) Interlocked.Increment(ref passed);
        });
        double rate = inputs.Count / clock.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new { runner = name, round, executions_per_s = Math.Round(rate, 1), passed, programs = inputs.Count }));
        if (passed != inputs.Count) throw new InvalidOperationException($"{name}: only {passed}/{inputs.Count} canonical solutions passed");
        return rate;
    }
}
