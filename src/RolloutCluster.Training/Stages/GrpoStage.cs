using RolloutCluster.Rewards;
using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Training.Stages;

/// <summary>
/// GRPO with verifiable rewards. With dynamic sampling, each round samples Oversample times the
/// groups still missing (fewer, larger sampling batches), for at most MaxSamplingRounds rounds.
/// </summary>
public sealed record GrpoStageSpec(string Name, int Steps, OptimizerConfig Optimizer, int MicroBatchSize, double? TimeLimitMinutes,
    int PromptsPerStep, int GroupSize, SamplingSpec Sampling, string Advantage, PolicyLossConfig Loss, double KlCoefficient, string KlEstimator,
    bool DynamicSampling, int MaxSamplingRounds, double Oversample, OverlongSpec Overlong, int MaxStaleness, bool ImportanceCorrection,
    int MaxTokensPerMicroBatch = 0, int PpoEpochs = 1, int MiniBatches = 1, IReadOnlyList<RewardSpec>? Rewards = null, IReadOnlyList<string>? Efforts = null)
    : StageSpec(Name, "grpo", Steps);

/// <summary>
/// GRPO: collect P scored groups of G completions from the rollout engine (through a
/// <see cref="RolloutPipeline"/> that keeps sampling within the staleness bound), turn each group's
/// rewards into advantages and take one learner step; then publish the new weights version. The same
/// stage runs in this process and on the cluster; only the engine differs.
/// </summary>
public sealed partial class GrpoStage : IStage
{
    public string Kind => "grpo";

    public string Describe(StageSpec spec) => spec is GrpoStageSpec g
        ? $"{g.Steps} steps of {g.PromptsPerStep} prompts x {g.GroupSize} samples (up to {g.Sampling.MaxNewTokens} new tokens), advantage {g.Advantage}, max_staleness {g.MaxStaleness}" +
          (g.Efforts is null ? "" : $", prompts asking for effort {string.Join(", ", g.Efforts)} in turn")
        : "";

    public async Task<int> RunAsync(StageSpec stage, StageContext context, ResumePoint? resume, CancellationToken cancellation)
    {
        var spec = (GrpoStageSpec)stage;
        var policy = context.Policy;
        // The KL reference is the stage's starting weights: on resume, the checkpoint the stage began from.
        using var reference = spec.KlCoefficient <= 0 ? null : resume is null ? PolicyReplica.Frozen(policy.Model) : FromStart(context);
        // Sampling that runs ahead of the learner must not share the cores' threads with it: with
        // max_staleness > 0 the two halves of the work each get half the threads (OpenMP teams that
        // oversubscribe the cores spin and slow everything down many times over).
        int threads = context.Job.Model.Threads;
        if (spec.MaxStaleness > 0) torch.set_num_threads(Math.Max(1, threads / 2));
        if (context.Engine is LocalRolloutEngine local) local.Overlap = spec.MaxStaleness > 0;
        try
        {
            return await TrainAsync(spec, context, reference, resume, cancellation);
        }
        finally
        {
            torch.set_num_threads(threads);
            if (context.Engine is LocalRolloutEngine l) l.Overlap = false;
        }
    }

    static PolicyReplica FromStart(StageContext context)
    {
        using var start = context.StartingPolicy(context.StageIndex);
        return PolicyReplica.Frozen(start.Model);
    }

    static async Task<int> TrainAsync(GrpoStageSpec spec, StageContext context, PolicyReplica? reference, ResumePoint? resume, CancellationToken cancellation)
    {
        var policy = context.Policy;
        // warmup_steps and the schedule count learner steps; each step takes ppo_epochs x mini_batches updates.
        int updates = spec.PpoEpochs * spec.MiniBatches;
        using var optimizer = new TrainingOptimizer(policy.Model.TrainableParameters(),
            spec.Optimizer with { WarmupSteps = spec.Optimizer.WarmupSteps * updates, TotalSteps = spec.Optimizer.TotalSteps * updates });
        var learner = new GrpoLearner(policy.Model, reference?.Model, optimizer, new GrpoLearnerConfig
        {
            Loss = spec.Loss,
            KlCoefficient = spec.KlCoefficient,
            KlEstimator = spec.KlEstimator,
            MicroBatchSize = spec.MicroBatchSize,
            MaxTokensPerMicroBatch = spec.MaxTokensPerMicroBatch,
            Temperature = spec.Sampling.Temperature,
            ImportanceCorrection = spec.ImportanceCorrection,
            PpoEpochs = spec.PpoEpochs,
            MiniBatches = spec.MiniBatches,
        }, policy.Tokenizer.VocabSize, policy.Tokenizer.EosId);
        var estimator = Advantages.Registry.Get(spec.Advantage);
        // With efforts, prompts take turns asking for each level (the length reward with effort: prompt holds each to its budget).
        var counted = new CountingEnumerator<Problem>(context.TrainStream(rl: true, spec.Efforts));
        long seed = RowRandom.RowSeed(context.Job.Seed, 7919 + context.StageIndex);
        var rewards = RewardModelReference.Resolve(spec.Rewards ?? context.Job.Rewards, context.RunDirectory);
        var pipeline = new RolloutPipeline(context.Engine, spec, rewards, counted, seed, context.Observer.Note);
        // Versions are the engine's (one sequence per job); the stage's own count (from 0, or from the
        // resumed checkpoint's) is what metrics and resume.json record.
        long localStart = 0;
        int step = 0;
        if (resume is not null)
        {
            optimizer.Load(Path.Combine(resume.Directory, ResumeState.OptimizerFile));
            counted.Skip(resume.State.PromptsConsumed);
            (step, localStart) = (resume.State.StepsDone, resume.State.WeightsVersion);
            pipeline.Accounting.Restore(resume.State.Groups);
        }
        long version = await context.Engine.PublishPolicyAsync(policy, long.MaxValue, cancellation);
        long first = version;
        long Local(long v) => v - first + localStart;
        long start = context.Time.GetTimestamp();
        try
        {
            for (; step < spec.Steps; step++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    context.Resumable(spec.Name, step, pipeline.PromptsSettled(counted.Yielded), Local(version), optimizer, "cancelled", pipeline.SettledCounts());
                    cancellation.ThrowIfCancellationRequested();
                }
                if (spec.TimeLimitMinutes is { } limit && context.Time.GetElapsedTime(start).TotalMinutes >= limit)
                {
                    context.Observer.Note($"{spec.Name}: time limit of {limit} min reached after {step} steps");
                    break;
                }
                long stepStart = context.Time.GetTimestamp();
                context.Memory.Check($"{spec.Name} step {step + 1}");
                var (groups, received, rounds) = await pipeline.CollectAsync(step, version, cancellation);
                if (pipeline.Exhausted && groups.Count == 0)
                {
                    context.Observer.Note($"{spec.Name}: the training data ran out (task.epochs) after {step} steps");
                    break;
                }
                pipeline.Prefetch(step, version);
                double sampleSeconds = context.Time.GetElapsedTime(stepStart).TotalSeconds;
                var metrics = received.Count > 0 ? BatchMetrics(received) : new Metrics();
                metrics.Merge(context.Engine.TakeMetrics());
                metrics["batch/sampling_rounds"] = rounds;
                metrics["batch/groups"] = groups.Count;
                metrics["batch/prompt_digest"] = PromptDigest(groups);
                metrics["batch/weights_version"] = Local(version);
                if (groups.Count > 0)
                {
                    metrics["batch/version_lag_max"] = groups.Max(g => version - g.Group.WeightsVersion);
                    metrics["batch/version_lag_mean"] = groups.Average(g => version - g.Group.WeightsVersion);
                    // Synchronous and nothing in flight: no one samples with this version again, so its packed
                    // copy goes before the update (the learner's peak is then weights, gradients and AdamW).
                    bool forgotten = spec.MaxStaleness == 0 && pipeline.Idle;
                    if (forgotten) context.Engine.ForgetPublished();
                    metrics["perf/rss_before_update_gb"] = Environment.WorkingSet / (double)(1L << 30);
                    long learnStart = context.Time.GetTimestamp();
                    metrics.Merge(learner.Step(TrainingSamples(groups, estimator, spec, metrics, Local), Local(version)));
                    metrics["timing/learn_s"] = context.Time.GetElapsedTime(learnStart).TotalSeconds;
                    bool updated = metrics.GetValueOrDefault("actor/skipped_step") == 0 && metrics.GetValueOrDefault("actor/no_signal_step") == 0;
                    if (updated) policy.Changed();
                    // A step without an update publishes the same weights again when their version was dropped.
                    if (updated || forgotten) version = await context.Engine.PublishPolicyAsync(policy, version + 1 - spec.MaxStaleness, cancellation);
                }
                else context.Observer.Note($"{spec.Name} step {step + 1}: no group with a reward signal after {rounds} rounds; no update");
                pipeline.Accounting.AddTo(metrics);
                context.StageAccounting(spec.Name, pipeline.Accounting.Copy());
                metrics["timing/sample_s"] = sampleSeconds;
                metrics["timing/step_s"] = context.Time.GetElapsedTime(stepStart).TotalSeconds;
                metrics["perf/sampled_tokens_per_s"] = metrics.GetValueOrDefault("response/tokens") / Math.Max(sampleSeconds, 1e-9);
                context.StepDone(spec.Name, step + 1, spec.Steps, metrics);
                await context.MaybeEvaluateAsync(spec.Name, step + 1, spec.Steps, cancellation);
                if (context.Job.Checkpoint.EverySteps is > 0 and var every && (step + 1) % every == 0 && step + 1 < spec.Steps)
                    context.Resumable(spec.Name, step + 1, pipeline.PromptsSettled(counted.Yielded), Local(version), optimizer, "periodic", pipeline.SettledCounts());
            }
        }
        finally
        {
            await pipeline.DrainAsync();
            context.StageAccounting(spec.Name, pipeline.Accounting.Copy());
        }
        return step;
    }

    static List<TrainingSample> TrainingSamples(List<ScoredGroup> groups, AdvantageEstimator estimator, GrpoStageSpec spec, Metrics metrics, Func<long, long> local)
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
                samples.Add(new TrainingSample(groups[g].Group.Prompt, c.TokenIds, c.LogProbs, advantages[g * n + j], masked, local(groups[g].Group.WeightsVersion)));
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
        var scores = groups[0].Group.Scores[0].Values.Keys;
        var accuracy = scores.FirstOrDefault(k => k is "accuracy" or "math" or "code");
        if (accuracy is not null) metrics["batch/unsolved_groups"] = groups.Count(g => g.Group.Scores.All(s => s.Values[accuracy] < 1));
        foreach (var name in scores)
            metrics[$"reward/{name}"] = groups.SelectMany(g => g.Group.Scores).Average(s => s.Values[name]);
        // By requested effort: how long each level reasons, and how often it is right.
        foreach (var level in groups.GroupBy(g => g.Group.Problem.Effort).Where(l => l.Key is not null))
        {
            metrics[$"response/length_mean/{level.Key}"] = level.SelectMany(g => g.Group.Completions).Average(c => c.TokenIds.Length);
            if (accuracy is not null) metrics[$"reward/{accuracy}/{level.Key}"] = level.SelectMany(g => g.Group.Scores).Average(s => s.Values[accuracy]);
        }
        return metrics;
    }
}
