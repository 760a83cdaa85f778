using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Training.Runtime;

/// <summary>A scored group: its completions' reward breakdowns and the total used for advantages.</summary>
public sealed record ScoredGroup(SampledGroup Group, IReadOnlyList<RewardBreakdown> Scores, IReadOnlyList<double> Rewards);

/// <summary>
/// GRPO with verifiable rewards, in this process: sample G completions for each of P prompts, score
/// them, turn each group's rewards into advantages and take one learner step. Synchronous (every
/// group is sampled with the current weights); the grain pipeline runs the same pieces asynchronously.
/// </summary>
public static class GrpoStage
{
    public static async Task<int> RunAsync(Policy policy, GrpoStageSpec spec, RewardSet rewards, IEnumerator<Problem> prompts, long seed,
        int everySteps, StageContext context, CancellationToken cancellation)
    {
        using var reference = spec.KlCoefficient > 0 ? FrozenCopy(policy.Model) : null;
        using var optimizer = new TrainingOptimizer(policy.Model.parameters(), spec.Optimizer);
        var learner = new GrpoLearner(policy.Model, reference, optimizer, new GrpoLearnerConfig
        {
            Loss = spec.Loss,
            KlCoefficient = spec.KlCoefficient,
            KlEstimator = spec.KlEstimator,
            MicroBatchSize = spec.MicroBatchSize,
            Temperature = spec.Sampling.Temperature,
            ImportanceCorrection = spec.ImportanceCorrection,
        }, policy.Tokenizer.VocabSize, policy.Tokenizer.EosId);
        var estimator = Advantages.Registry.Get(spec.Advantage);
        if (spec.MaxStaleness > 0)
            context.Observer.Note($"{spec.Name}: max_staleness {spec.MaxStaleness} has no effect in this in-process run: every group is sampled with the current weights");
        long start = context.Time.GetTimestamp();
        int step = 0;
        for (; step < spec.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            if (spec.TimeLimitMinutes is { } limit && context.Time.GetElapsedTime(start).TotalMinutes >= limit)
            {
                context.Observer.Note($"{spec.Name}: time limit of {limit} min reached after {step} steps");
                break;
            }
            long stepStart = context.Time.GetTimestamp();
            var (groups, rounds, sampled) = await CollectAsync(policy, spec, rewards, prompts, seed, step, cancellation);
            double sampleSeconds = context.Time.GetElapsedTime(stepStart).TotalSeconds;
            var metrics = BatchMetrics(sampled, spec);
            metrics["batch/sampling_rounds"] = rounds;
            metrics["batch/groups"] = groups.Count;
            if (groups.Count > 0)
            {
                long learnStart = context.Time.GetTimestamp();
                metrics.Merge(learner.Step(TrainingSamples(groups, estimator, spec, metrics)));
                metrics["timing/learn_s"] = context.Time.GetElapsedTime(learnStart).TotalSeconds;
            }
            else context.Observer.Note($"{spec.Name} step {step + 1}: no group with a reward signal after {rounds} rounds; no update");
            metrics["timing/sample_s"] = sampleSeconds;
            metrics["timing/step_s"] = context.Time.GetElapsedTime(stepStart).TotalSeconds;
            metrics["perf/sampled_tokens_per_s"] = metrics["response/tokens"] / Math.Max(sampleSeconds, 1e-9);
            context.StepDone(spec.Name, step + 1, spec.Steps, metrics);
            await context.MaybeEvaluateAsync(spec.Name, step + 1, spec.Steps, cancellation);
            if (everySteps > 0 && (step + 1) % everySteps == 0 && step + 1 < spec.Steps) context.Checkpoint(spec.Name, step + 1);
        }
        return step;
    }

    /// <summary>
    /// Samples and scores P groups. With dynamic sampling, groups whose rewards are all equal are
    /// dropped and fresh prompts sampled (Oversample times the shortfall per round), for at most
    /// MaxSamplingRounds rounds; the first P groups with signal are kept.
    /// </summary>
    static async Task<(List<ScoredGroup> Kept, int Rounds, List<ScoredGroup> All)> CollectAsync(Policy policy, GrpoStageSpec spec, RewardSet rewards,
        IEnumerator<Problem> prompts, long seed, int step, CancellationToken cancellation)
    {
        var kept = new List<ScoredGroup>();
        var all = new List<ScoredGroup>();
        int rounds = 0;
        while (kept.Count < spec.PromptsPerStep && rounds < (spec.DynamicSampling ? spec.MaxSamplingRounds : 1))
        {
            var problems = new List<Problem>();
            int wanted = spec.DynamicSampling ? (int)Math.Ceiling((spec.PromptsPerStep - kept.Count) * spec.Oversample) : spec.PromptsPerStep;
            while (problems.Count < wanted && prompts.MoveNext()) problems.Add(prompts.Current);
            if (problems.Count == 0) throw new InvalidOperationException("the prompt stream ran out");
            long roundSeed = RowRandom.RowSeed(seed, (long)step * 1000 + rounds);
            var groups = GroupSampler.Sample(policy, problems, spec.GroupSize, spec.Sampling, roundSeed, weightsVersion: step);
            foreach (var group in groups)
            {
                var scored = await ScoreAsync(group, rewards, spec, cancellation);
                all.Add(scored);
                if (!spec.DynamicSampling || GroupFilters.HasSignal(scored.Rewards)) kept.Add(scored);
            }
            rounds++;
        }
        return (kept.Take(spec.PromptsPerStep).ToList(), rounds, all);
    }

    static async Task<ScoredGroup> ScoreAsync(SampledGroup group, RewardSet rewards, GrpoStageSpec spec, CancellationToken cancellation)
    {
        var scores = new List<RewardBreakdown>(group.Completions.Count);
        var totals = new List<double>(group.Completions.Count);
        foreach (var c in group.Completions)
        {
            var breakdown = await rewards.ScoreAsync(new RewardInput(c.Text, group.Problem.Answer, group.Problem.Question), cancellation);
            scores.Add(breakdown);
            double penalty = spec.Overlong.Mode == "penalty"
                ? GroupFilters.SoftOverlongPenalty(c.TokenIds.Length + (c.Finish == FinishReason.Length ? 1 : 0), spec.Sampling.MaxNewTokens, spec.Overlong.Buffer)
                : 0;
            totals.Add(breakdown.Total + penalty);
        }
        return new ScoredGroup(group, scores, totals);
    }

    static List<TrainingSample> TrainingSamples(List<ScoredGroup> groups, AdvantageEstimator estimator, GrpoStageSpec spec, Metrics metrics)
    {
        int n = spec.GroupSize;
        var rewards = new float[groups.Count, n];
        for (int g = 0; g < groups.Count; g++)
            for (int j = 0; j < n; j++) rewards[g, j] = (float)groups[g].Rewards[j];
        float[] advantages;
        using (NewDisposeScope())
        {
            var (a, m) = estimator(tensor(rewards), 1e-6);
            advantages = a.flatten().data<float>().ToArray();
            metrics.Merge(m);
        }
        var samples = new List<TrainingSample>(groups.Count * n);
        for (int g = 0; g < groups.Count; g++)
            for (int j = 0; j < n; j++)
            {
                var c = groups[g].Group.Completions[j];
                bool masked = spec.Overlong.Mode == "mask" && c.Finish == FinishReason.Length;
                samples.Add(new TrainingSample(groups[g].Group.Prompt, c.TokenIds, c.LogProbs, advantages[g * n + j], masked, groups[g].Group.WeightsVersion));
            }
        return samples;
    }

    /// <summary>Reward and response statistics over every sampled group (dropped ones included).</summary>
    static Metrics BatchMetrics(List<ScoredGroup> groups, GrpoStageSpec spec)
    {
        var totals = groups.SelectMany(g => g.Rewards).ToList();
        var completions = groups.SelectMany(g => g.Group.Completions).ToList();
        var metrics = new Metrics
        {
            ["reward/mean"] = totals.Average(),
            ["reward/std"] = Math.Sqrt(totals.Select(r => (r - totals.Average()) * (r - totals.Average())).Average()),
            ["response/length_mean"] = completions.Average(c => c.TokenIds.Length),
            ["response/length_max"] = completions.Max(c => c.TokenIds.Length),
            ["response/clip_ratio"] = completions.Count(c => c.Finish == FinishReason.Length) / (double)completions.Count,
            ["response/tokens"] = completions.Sum(c => c.TokenIds.Length),
            ["batch/sampled_groups"] = groups.Count,
        };
        var accuracy = groups[0].Scores[0].Values.Keys.FirstOrDefault(k => k is "accuracy" or "math");
        if (accuracy is not null) metrics["batch/unsolved_groups"] = groups.Count(g => g.Scores.All(s => s.Values[accuracy] < 1));
        foreach (var name in groups[0].Scores[0].Values.Keys)
            metrics[$"reward/{name}"] = groups.SelectMany(g => g.Scores).Average(s => s.Values[name]);
        return metrics;
    }

    /// <summary>A frozen copy of the policy as the KL reference, made through the weight-packing path.</summary>
    static CausalLm FrozenCopy(CausalLm policy)
    {
        var copy = new CausalLm(policy.Config);
        copy.to(policy.DType).to(policy.Device);
        var (buffer, manifest) = WeightPack.Pack(policy);
        WeightPack.Unpack(copy, buffer, manifest);
        foreach (var p in copy.parameters()) p.requires_grad = false;
        copy.eval();
        return copy;
    }
}
