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

/// <summary>
/// GRPO with verifiable rewards: collect P scored groups of G completions (from an
/// <see cref="IRolloutSource"/>, through a <see cref="RolloutPipeline"/> that keeps sampling within
/// the staleness bound), turn each group's rewards into advantages and take one learner step; then
/// publish the new weights version. The same stage runs in this process and on the cluster; only the
/// source differs.
/// </summary>
public static class GrpoStage
{
    /// <param name="reference">The KL reference (the stage's starting weights) when resuming; null copies the policy as it is now.</param>
    public static async Task<int> RunAsync(Policy policy, GrpoStageSpec spec, IRolloutSource source, IEnumerator<Problem> prompts, long seed,
        int everySteps, StageContext context, CancellationToken cancellation, ResumePoint? resume = null, CausalLm? reference = null)
    {
        using var ownReference = spec.KlCoefficient > 0 && reference is null ? FrozenCopy(policy.Model) : null;
        reference ??= ownReference;
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
        var counted = new CountingEnumerator<Problem>(prompts);
        var pipeline = new RolloutPipeline(source, spec, counted, seed, context.Observer.Note);
        long version = 0;
        int step = 0;
        if (resume is not null)
        {
            optimizer.Load(Path.Combine(resume.Directory, ResumeState.OptimizerFile));
            counted.Skip(resume.State.PromptsConsumed);
            (step, version) = (resume.State.StepsDone, resume.State.WeightsVersion);
            pipeline.Accounting.Restore(resume.State.Groups);
        }
        await source.PublishAsync(version, version, cancellation);
        long start = context.Time.GetTimestamp();
        try
        {
            for (; step < spec.Steps; step++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    context.Resumable(spec.Name, step, pipeline.PromptsSettled(counted.Yielded), version, optimizer, "cancelled", pipeline.SettledCounts());
                    cancellation.ThrowIfCancellationRequested();
                }
                if (spec.TimeLimitMinutes is { } limit && context.Time.GetElapsedTime(start).TotalMinutes >= limit)
                {
                    context.Observer.Note($"{spec.Name}: time limit of {limit} min reached after {step} steps");
                    break;
                }
                long stepStart = context.Time.GetTimestamp();
                var (groups, received, rounds) = await pipeline.CollectAsync(step, version, cancellation);
                pipeline.Prefetch(step, version);
                double sampleSeconds = context.Time.GetElapsedTime(stepStart).TotalSeconds;
                var metrics = received.Count > 0 ? BatchMetrics(received) : new Metrics();
                metrics.Merge(source.TakeMetrics());
                metrics["batch/sampling_rounds"] = rounds;
                metrics["batch/groups"] = groups.Count;
                metrics["batch/prompt_digest"] = PromptDigest(groups);
                metrics["batch/weights_version"] = version;
                if (groups.Count > 0)
                {
                    metrics["batch/version_lag_max"] = groups.Max(g => version - g.Group.WeightsVersion);
                    metrics["batch/version_lag_mean"] = groups.Average(g => version - g.Group.WeightsVersion);
                    long learnStart = context.Time.GetTimestamp();
                    metrics.Merge(learner.Step(TrainingSamples(groups, estimator, spec, metrics)));
                    metrics["timing/learn_s"] = context.Time.GetElapsedTime(learnStart).TotalSeconds;
                    if (metrics.GetValueOrDefault("actor/skipped_step") == 0 && metrics.GetValueOrDefault("actor/no_signal_step") == 0)
                    {
                        version++;
                        await source.PublishAsync(version, version - spec.MaxStaleness, cancellation);
                    }
                }
                else context.Observer.Note($"{spec.Name} step {step + 1}: no group with a reward signal after {rounds} rounds; no update");
                pipeline.Accounting.AddTo(metrics);
                context.StageAccounting(spec.Name, pipeline.Accounting.Copy());
                metrics["timing/sample_s"] = sampleSeconds;
                metrics["timing/step_s"] = context.Time.GetElapsedTime(stepStart).TotalSeconds;
                metrics["perf/sampled_tokens_per_s"] = metrics.GetValueOrDefault("response/tokens") / Math.Max(sampleSeconds, 1e-9);
                context.StepDone(spec.Name, step + 1, spec.Steps, metrics);
                await context.MaybeEvaluateAsync(spec.Name, step + 1, spec.Steps, cancellation);
                if (everySteps > 0 && (step + 1) % everySteps == 0 && step + 1 < spec.Steps)
                    context.Resumable(spec.Name, step + 1, pipeline.PromptsSettled(counted.Yielded), version, optimizer, "periodic", pipeline.SettledCounts());
            }
        }
        finally
        {
            await pipeline.DrainAsync();
            context.StageAccounting(spec.Name, pipeline.Accounting.Copy());
        }
        return step;
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

    /// <summary>
    /// A fingerprint of which prompts were trained on, in order (FNV-1a over their ids, 52 bits so a
    /// double holds it exactly): two runs with the same data order log the same digests.
    /// </summary>
    static double PromptDigest(List<ScoredGroup> groups)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var g in groups)
            foreach (char c in g.Group.Problem.Id + "\n")
                hash = (hash ^ c) * 1099511628211UL;
        return hash & ((1UL << 52) - 1);
    }

    /// <summary>Reward and response statistics over every sampled group (dropped ones included).</summary>
    static Metrics BatchMetrics(List<ScoredGroup> groups)
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
    public static CausalLm FrozenCopy(CausalLm policy)
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
