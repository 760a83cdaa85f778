using System.Diagnostics;
using RolloutCluster.Data;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Answers;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Evaluation;

/// <summary>
/// Samples k completions per held-out problem through the rollout engine (<see cref="RolloutBatches"/>:
/// evaluation spreads over the cluster's generators like rollouts do) and scores them with a correctness reward (value 1 =
/// correct) and the format reward.
/// </summary>
public static class Evaluator
{
    /// <summary>The correctness reward a job's rewards imply: its first of code, math or accuracy; math when it has none.</summary>
    public static RewardSpec Correctness(IReadOnlyList<RewardSpec> rewards) =>
        rewards.FirstOrDefault(r => r.Name is "accuracy" or "math" or "code") is { } r ? r with { Weight = 1 } : new RewardSpec("math", 1);

    public static async Task<EvalResult> EvaluateAsync(IRolloutEngine engine, long version, IReadOnlyList<Problem> problems, int samples, float temperature,
        int maxNewTokens, long seed, RewardSpec correctness, CancellationToken cancellation = default,
        Func<IReadOnlyList<RolloutGroup>, IReadOnlyList<double[]>>? scorer = null, int refineRounds = 0)
    {
        var clock = Stopwatch.StartNew();
        var sampling = new SamplingSpec(Math.Max(temperature, 0f), 1f, 0, maxNewTokens);
        IReadOnlyList<RewardSpec> rewards = correctness.Name == "format" ? [correctness] : [correctness, new RewardSpec("format", 0)];
        var groups = await RolloutBatches.RunAsync(engine, problems, samples, sampling, seed, version, rewards, cancellation);
        var refinement = refineRounds == 0 ? []
            : await SelfRefinement.RunAsync(engine, version, groups, refineRounds, sampling, seed, rewards, correctness.Name, cancellation);
        var resampling = refineRounds == 0 ? []
            : await SelfRefinement.RunAsync(engine, version, groups, refineRounds, sampling, seed, rewards, correctness.Name, cancellation, feedback: false);
        return Summarize(groups, correctness.Name, samples, clock.Elapsed.TotalSeconds, scorer?.Invoke(groups)) with { Refinement = refinement, Resampling = resampling };
    }

    /// <summary>The metrics of the groups; with a scorer's scores of every sample, best-of-n and reward-weighted majority along the curve too.</summary>
    static EvalResult Summarize(IReadOnlyList<RolloutGroup> groups, string correctness, int samples, double seconds, IReadOnlyList<double[]>? scores)
    {
        int correctSamples = 0, solvedAny = 0, formatted = 0;
        long tokens = 0;
        var byOperator = new Dictionary<string, (int Correct, int Total)>(StringComparer.Ordinal);
        var byGenerator = new Dictionary<string, double>(StringComparer.Ordinal);
        var sizes = ScalingSizes(samples);
        var (passSums, majSums) = (new double[sizes.Count], new double[sizes.Count]);
        var (bestSums, weightedSums) = (new double[sizes.Count], new double[sizes.Count]);
        for (int g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            var ok = new bool[group.Completions.Count];
            var answers = new string?[group.Completions.Count];
            for (int j = 0; j < group.Completions.Count; j++)
            {
                var c = group.Completions[j];
                tokens += c.TokenIds.Length;
                ok[j] = group.Scores[j].Values[correctness] >= 1;
                if (group.Scores[j].Values.GetValueOrDefault("format") >= 1) formatted++;
                answers[j] = AnswerExtraction.Extract(c.Text);
            }
            int correct = ok.Count(x => x);
            correctSamples += correct;
            if (correct > 0) solvedAny++;
            for (int s = 0; s < sizes.Count; s++)
            {
                passSums[s] += InferenceScaling.PassAtN(ok.Length, correct, sizes[s]);
                majSums[s] += InferenceScaling.MajorityAtN(answers, ok, sizes[s]);
                if (scores is null) continue;
                bestSums[s] += InferenceScaling.BestOfN(scores[g], ok, sizes[s]);
                weightedSums[s] += InferenceScaling.WeightedMajorityAtN(answers, scores[g], ok, sizes[s]);
            }
            var op = Operator(group.Problem.Question);
            var (c0, t0) = byOperator.GetValueOrDefault(op);
            byOperator[op] = (c0 + correct, t0 + group.Completions.Count);
            byGenerator[group.Generator] = byGenerator.GetValueOrDefault(group.Generator) + 1;
        }
        int n = groups.Count, total = n * samples;
        var scaling = sizes.Select((size, s) => (size, s)).ToDictionary(x => x.size, x => (passSums[x.s] / n, majSums[x.s] / n));
        var ranked = scores is null ? new Dictionary<int, (double, double)>()
            : sizes.Select((size, s) => (size, s)).ToDictionary(x => x.size, x => (bestSums[x.s] / n, weightedSums[x.s] / n));
        return new EvalResult(n, samples, (double)correctSamples / total, (double)solvedAny / n, scaling[samples].Item2,
            (double)formatted / total, (double)tokens / total, seconds,
            byOperator.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Correct / kv.Value.Total)) { ProblemsByGenerator = byGenerator, Scaling = scaling, Ranked = ranked };
    }

    /// <summary>The sample counts of the inference-scaling curve: 1, 2, 4, … below k, and k itself.</summary>
    public static IReadOnlyList<int> ScalingSizes(int samples) =>
        [.. Enumerable.Range(0, 31).Select(i => 1 << i).TakeWhile(size => size < samples), samples];

    /// <summary>"add", "sub", "mul" for arithmetic questions, "all" otherwise.</summary>
    static string Operator(string question) =>
        question.StartsWith("Compute: ", StringComparison.Ordinal) && question.Split(' ') is [_, _, var op, _]
            ? op switch { "+" => "add", "-" => "sub", "*" => "mul", _ => "all" }
            : "all";
}
