using System.Diagnostics;
using RolloutCluster.Data;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Answers;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Training.Evaluation;

/// <summary>Samples k completions per held-out problem and scores them with a correctness reward (value 1 = correct).</summary>
public static class Evaluator
{
    public static async Task<EvalResult> EvaluateAsync(Policy policy, IReadOnlyList<Problem> problems, int samples, float temperature,
        int maxNewTokens, long seed, IRewardFunction? correctness = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var math = correctness ?? new MathReward();
        var format = new FormatReward();
        var sampling = new SamplingSpec(Math.Max(temperature, 0f), 1f, 0, maxNewTokens);
        int correctSamples = 0, solvedAny = 0, majority = 0, formatted = 0;
        long tokens = 0;
        var byOperator = new Dictionary<string, (int Correct, int Total)>(StringComparer.Ordinal);
        // Chunks keep the KV cache small; each row's seed depends only on (seed, problem, sample).
        const int chunk = 64;
        for (int start = 0; start < problems.Count; start += chunk)
        {
            cancellation.ThrowIfCancellationRequested();
            var part = problems.Skip(start).Take(chunk).ToList();
            var groups = GroupSampler.Sample(policy, part, samples, sampling, seed + start, weightsVersion: 0);
            foreach (var group in groups)
            {
                int correct = 0;
                var votes = new Dictionary<string, (int Count, int First, bool Correct)>(StringComparer.Ordinal);
                for (int j = 0; j < group.Completions.Count; j++)
                {
                    var c = group.Completions[j];
                    tokens += c.TokenIds.Length;
                    var input = new RewardInput(c.Text, group.Problem.Answer, group.Problem.Question);
                    bool ok = (await math.ScoreAsync(input, cancellation)).Value >= 1;
                    if (ok) correct++;
                    if ((await format.ScoreAsync(input, cancellation)).Value >= 1) formatted++;
                    if (AnswerExtraction.Extract(c.Text) is { Length: > 0 } answer)
                        votes[answer] = votes.TryGetValue(answer, out var v) ? (v.Count + 1, v.First, v.Correct) : (1, j, ok);
                }
                correctSamples += correct;
                if (correct > 0) solvedAny++;
                if (votes.Count > 0 && votes.Values.OrderByDescending(v => v.Count).ThenBy(v => v.First).First().Correct) majority++;
                var op = Operator(group.Problem.Question);
                var (c0, t0) = byOperator.GetValueOrDefault(op);
                byOperator[op] = (c0 + correct, t0 + group.Completions.Count);
            }
        }
        int n = problems.Count, total = n * samples;
        return new EvalResult(n, samples, (double)correctSamples / total, (double)solvedAny / n, (double)majority / n,
            (double)formatted / total, (double)tokens / total, clock.Elapsed.TotalSeconds,
            byOperator.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Correct / kv.Value.Total));
    }

    /// <summary>"add", "sub", "mul" for arithmetic questions, "all" otherwise.</summary>
    static string Operator(string question) =>
        question.StartsWith("Compute: ", StringComparison.Ordinal) && question.Split(' ') is [_, _, var op, _]
            ? op switch { "+" => "add", "-" => "sub", "*" => "mul", _ => "all" }
            : "all";
}
