using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Engine;

/// <summary>G completions of one problem, sampled with one weights version by one generator.</summary>
public sealed record SampledGroup(Problem Problem, int[] Prompt, IReadOnlyList<Completion> Completions, long WeightsVersion, string Generator = "local");

/// <summary>
/// Samples groups: every problem's prompt repeated G times in one batch, each row with its own seed
/// derived from (seed, row), so a group is the same however the batch is split across generators.
/// </summary>
public static class GroupSampler
{
    /// <summary>Stop strings of the R1 format: nothing useful follows the closing answer tag.</summary>
    public static readonly IReadOnlyList<string> StopStrings = ["</answer>"];

    /// <summary>
    /// Row j of problem i samples with RowSeed(seed, (firstProblem + i) · G + j), so a request split
    /// across generators (each given its slice's first problem index) samples what one generator would.
    /// </summary>
    public static IReadOnlyList<SampledGroup> Sample(Policy policy, IReadOnlyList<Problem> problems, int groupSize, SamplingSpec sampling,
        long seed, long weightsVersion, int maxBatchRows = 256, int firstProblem = 0, string generator = "local", IReadOnlyList<int[]>? prompts = null)
    {
        // Prompts rendered by the caller (the learner renders once for the cluster), or here.
        prompts ??= problems.Select(policy.Prompt).ToList();
        var rows = new List<int[]>();
        var seeds = new List<long>();
        for (int i = 0; i < problems.Count; i++)
            for (int j = 0; j < groupSize; j++)
            {
                rows.Add(prompts[i]);
                seeds.Add(RowRandom.RowSeed(seed, (long)(firstProblem + i) * groupSize + j));
            }
        var p = new SamplingParams
        {
            Temperature = sampling.Temperature,
            TopP = sampling.TopP,
            TopK = sampling.TopK,
            MaxNewTokens = sampling.MaxNewTokens,
            StopTokenIds = [policy.Tokenizer.EosId],
            StopStrings = StopStrings,
        };
        var sampler = new Sampler(policy.Model, policy.Tokenizer);
        var completions = new List<Completion>(rows.Count);
        // Passes of at most maxBatchRows rows and, with a token budget, of at most that many KV-cache
        // tokens (rows x (longest prompt + max_new_tokens)): the cache's memory is bounded whatever the lengths.
        foreach (var pass in Algorithms.MicroBatches.Split(Enumerable.Range(0, rows.Count).ToList(), r => rows[r].Length + sampling.MaxNewTokens, maxBatchRows, sampling.MaxBatchTokens))
            completions.AddRange(sampler.Generate(pass.Select(r => rows[r]).ToList(), p, pass.Select(r => seeds[r]).ToList()));
        return problems.Select((problem, i) => new SampledGroup(problem, prompts[i], completions.GetRange(i * groupSize, groupSize), weightsVersion, generator)).ToList();
    }

    /// <summary>What a reward function sees of one completion of a problem; context is the prompt's text as the policy read it.</summary>
    public static RewardInput Input(Problem problem, string completion, string? context = null) =>
        new(completion, problem.Answer, problem.Question, problem.Tests, problem.EntryPoint, problem.TestCases, context, problem.Effort);

    /// <summary>What the rewards see of every completion of the groups, in order (each prompt decoded once, for a reward model).</summary>
    public static IEnumerable<RewardInput> Inputs(IReadOnlyList<SampledGroup> groups, Model.Tokenizers.ITokenizer tokenizer) =>
        groups.SelectMany(g =>
        {
            string context = tokenizer.Decode(g.Prompt);
            return g.Completions.Select(c => Input(g.Problem, c.Text, context));
        });

    /// <summary>Scores sampled groups' completions with a reward set, all in one batch (a reward model's forward passes span groups).</summary>
    public static async Task<IReadOnlyList<RolloutGroup>> ScoreAsync(IReadOnlyList<SampledGroup> groups, RewardSet rewards, Model.Tokenizers.ITokenizer tokenizer, CancellationToken cancellation)
    {
        var scores = await rewards.ScoreBatchAsync([.. Inputs(groups, tokenizer)], Environment.ProcessorCount, cancellation);
        int at = 0;
        return [.. groups.Select(g =>
        {
            var group = new RolloutGroup(g.Problem, g.Prompt, g.Completions, [.. scores.Skip(at).Take(g.Completions.Count)], g.WeightsVersion, g.Generator);
            at += g.Completions.Count;
            return group;
        })];
    }
}
