using RolloutCluster.Model.Scoring;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>Settings of a GRPO learner step.</summary>
public sealed record GrpoLearnerConfig
{
    public PolicyLossConfig Loss { get; init; } = new();

    /// <summary>KL penalty coefficient; 0 means no reference model is used at all.</summary>
    public double KlCoefficient { get; init; }
    public string KlEstimator { get; init; } = "k3";

    /// <summary>Completions per forward/backward pass; gradients accumulate over a batch's micro-batches.</summary>
    public int MicroBatchSize { get; init; } = 64;

    /// <summary>Padded tokens (rows × longest prompt + completion) per pass; 0: rows alone decide (<see cref="MicroBatches"/>).</summary>
    public int MaxTokensPerMicroBatch { get; init; }

    /// <summary>Sampling temperature: log-probabilities are recomputed at the temperature they were sampled at.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Correct stale rollouts by the truncated importance weight π_old/π_behaviour.</summary>
    public bool ImportanceCorrection { get; init; } = true;

    /// <summary>Passes over each batch (PPO's epochs): every pass after the first trains on rollouts its own updates have made off-policy.</summary>
    public int PpoEpochs { get; init; } = 1;

    /// <summary>Optimizer updates per pass: the batch cut, in order, into this many mini-batches.</summary>
    public int MiniBatches { get; init; } = 1;

    /// <summary>Optimizer updates per batch.</summary>
    public int UpdatesPerBatch => PpoEpochs * MiniBatches;
}

/// <summary>
/// The GRPO updates of one batch of scored completions: micro-batched teacher-forced passes, clipped
/// policy loss (+ optional KL to a frozen reference), accumulated gradients, clipping and AdamW through
/// <see cref="TrainingOptimizer"/>. With one update per batch the proximal (old) policy is the current
/// one, so the ratio is 1 and clipping cannot bind; with <see cref="GrpoLearnerConfig.PpoEpochs"/> or
/// <see cref="GrpoLearnerConfig.MiniBatches"/> above 1 the old log-probs are recorded before the first
/// update (PPO, Schulman et al. 2017; veRL's ppo_epochs / ppo_mini_batch_size) and every later update's
/// ratio moves against them. Completions with zero advantage are skipped in the backward pass when
/// there is no KL term (their gradient is zero); the loss is still normalised over the whole
/// mini-batch, so each update is the full mini-batch's.
/// </summary>
public sealed class GrpoLearner(CausalLm policy, CausalLm? reference, TrainingOptimizer optimizer, GrpoLearnerConfig config, int vocabLimit, int padId)
{
    /// <param name="currentVersion">The weights version being trained: completions sampled with it report actor/logprob_mismatch_* (null: all do).</param>
    public Metrics Step(IReadOnlyList<TrainingSample> batch, long? currentVersion = null)
    {
        if (batch.Count == 0) throw new ArgumentException("empty batch");
        if (config.KlCoefficient > 0 && reference is null) throw new InvalidOperationException("a KL coefficient needs a reference model");
        ArgumentOutOfRangeException.ThrowIfLessThan(config.PpoEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(config.MiniBatches, 1);
        policy.train();
        // Each mini-batch with the completions that carry a gradient in it (the rest still count in its loss's normalisers).
        var minis = MiniBatchesOf(batch, config.MiniBatches).Select(m => (All: m, Trained: Trained(m))).ToList();
        int trainedSequences = minis.Sum(m => m.Trained.Count);
        if (trainedSequences == 0)
        {
            // No completion carries a gradient; an AdamW step on zero gradients would still move the
            // weights (momentum, weight decay), so there is no step at all.
            return new Metrics { ["actor/trained_sequences"] = 0, ["actor/skipped_step"] = 0, ["actor/no_signal_step"] = 1 };
        }
        // The proximal policy of every update: the weights as they are before the first one.
        var old = config.UpdatesPerBatch > 1 ? OldLogProbs(minis.SelectMany(m => m.Trained).ToList()) : null;
        var updates = new List<Metrics>();
        for (int epoch = 0; epoch < config.PpoEpochs; epoch++)
            foreach (var (all, trained) in minis)
                if (trained.Count > 0) updates.Add(Update(all, trained, old, currentVersion, first: updates.Count == 0));
        var result = Combine(updates);
        if (old is not null) Mismatch(old, currentVersion, result);
        result["actor/trained_sequences"] = trainedSequences;
        result["actor/updates"] = updates.Count(u => u["actor/skipped_step"] == 0);
        // The step counts as skipped only when no update reached the weights.
        result["actor/skipped_step"] = result["actor/updates"] == 0 ? 1 : 0;
        return result;
    }

    List<TrainingSample> Trained(IReadOnlyList<TrainingSample> mini) =>
        config.KlCoefficient > 0 ? mini.ToList() : mini.Where(s => s.Advantage != 0 && !s.Masked && s.Completion.Length > 0).ToList();

    /// <summary>The batch cut, in order, into n near-equal runs (fewer when the batch is smaller).</summary>
    static List<TrainingSample[]> MiniBatchesOf(IReadOnlyList<TrainingSample> batch, int n)
    {
        n = Math.Min(n, batch.Count);
        return Enumerable.Range(0, n).Select(i => batch.Skip(i * batch.Count / n).Take((i + 1) * batch.Count / n - i * batch.Count / n).ToArray()).ToList();
    }

    /// <summary>log π_old of every completion token, before any update of this batch.</summary>
    Dictionary<TrainingSample, float[]> OldLogProbs(List<TrainingSample> samples)
    {
        var old = new Dictionary<TrainingSample, float[]>(ReferenceEqualityComparer.Instance);
        using var noGrad = no_grad();
        foreach (var micro in MicroBatches.Split(samples, s => s.Prompt.Length + s.Completion.Length, config.MicroBatchSize, config.MaxTokensPerMicroBatch))
        {
            using var scope = NewDisposeScope();
            using var scores = SequenceScorer.Score(policy, micro.Select(s => s.Prompt).ToList(), micro.Select(s => s.Completion).ToList(),
                config.Temperature, padId: padId, vocabLimit: vocabLimit);
            var rows = scores.LogProbs.data<float>().ToArray();                 // (b, L) flattened
            long width = scores.LogProbs.shape[1];
            for (int i = 0; i < micro.Length; i++) old[micro[i]] = rows.AsSpan((int)(i * width), micro[i].Completion.Length).ToArray();
        }
        return old;
    }

    /// <summary>One optimizer update on a mini-batch's trained completions; its loss is normalised over the whole mini-batch.</summary>
    Metrics Update(TrainingSample[] mini, List<TrainingSample> trained, Dictionary<TrainingSample, float[]>? old, long? currentVersion, bool first)
    {
        optimizer.ZeroGrad();
        var scale = new AggregationScale(
            mini.Sum(s => s.Masked ? 0 : s.Completion.Length),
            mini.Length,
            mini.Count(s => !s.Masked && s.Completion.Length > 0));
        var totals = new Metrics();
        double weightSum = 0;
        foreach (var micro in MicroBatches.Split(trained, s => s.Prompt.Length + s.Completion.Length, config.MicroBatchSize, config.MaxTokensPerMicroBatch))
        {
            using var scope = NewDisposeScope();
            using var scores = SequenceScorer.Score(policy, micro.Select(s => s.Prompt).ToList(), micro.Select(s => s.Completion).ToList(),
                config.Temperature, entropy: true, padId: padId, vocabLimit: vocabLimit);
            long width = scores.LogProbs.shape[1];
            var mask = scores.Mask * tensor(micro.Select(s => s.Masked ? 0f : 1f).ToArray()).unsqueeze(1); // (b, L)
            var advantages = tensor(micro.Select(s => (float)s.Advantage).ToArray());                    // (b)
            var behaviour = config.ImportanceCorrection ? Padded(micro.Select(s => s.BehaviourLogProbs), width) : null; // (b, L)
            var oldLogProbs = old is null ? scores.LogProbs.detach() : Padded(micro.Select(s => old[s]), width);   // (b, L)
            var (loss, metrics) = PolicyLoss.Compute(scores.LogProbs, oldLogProbs, behaviour, advantages, mask, config.Loss, scale);
            if (old is null && first) Mismatch(scores.LogProbs, micro, mask, width, currentVersion, metrics);
            if (config.KlCoefficient > 0)
            {
                Tensor refLogProbs;
                using (no_grad())
                {
                    refLogProbs = SequenceScorer.Score(reference!, micro.Select(s => s.Prompt).ToList(), micro.Select(s => s.Completion).ToList(),
                        config.Temperature, padId: padId, vocabLimit: vocabLimit).LogProbs;
                }
                var (klLoss, klMetrics) = KlEstimators.Penalty(scores.LogProbs, refLogProbs, mask, config.KlEstimator, config.KlCoefficient,
                    config.Loss.Aggregation, scale, config.Loss.Budget);
                loss = loss + klLoss;
                metrics.Merge(klMetrics);
            }
            loss.backward();
            double tokens = mask.sum().item<float>();
            metrics["actor/entropy"] = tokens > 0 ? (scores.Entropy! * mask).sum().item<float>() / tokens : 0;
            Accumulate(totals, metrics, tokens);
            weightSum += tokens;
        }
        var outcome = optimizer.Step();
        var result = new Metrics();
        foreach (var (k, v) in totals) result[k] = IsExtreme(k) || k == "actor/pg_loss" || k == "actor/kl_loss" ? v : weightSum > 0 ? v / weightSum : 0;
        result["actor/grad_norm"] = outcome.GradNorm;
        result["actor/lr"] = outcome.LearningRate;
        result["actor/skipped_step"] = outcome.Skipped ? 1 : 0;
        return result;
    }

    static bool IsExtreme(string key) => key.EndsWith("_max", StringComparison.Ordinal) || key.EndsWith("_min", StringComparison.Ordinal);

    /// <summary>A batch's metrics from its updates': extremes over all, the rest averaged (the mismatch comes from the first alone).</summary>
    static Metrics Combine(List<Metrics> updates)
    {
        if (updates.Count == 1) return updates[0];
        var result = new Metrics();
        foreach (var key in updates.SelectMany(u => u.Keys).Distinct())
        {
            var values = updates.Where(u => u.ContainsKey(key)).Select(u => u[key]).ToList();
            result[key] = key.EndsWith("_max", StringComparison.Ordinal) ? values.Max() : key.EndsWith("_min", StringComparison.Ordinal) ? values.Min() : values.Average();
        }
        return result;
    }

    /// <summary>
    /// The train–inference log-prob mismatch: |sampler log-prob − learner log-prob| per token, on
    /// completions sampled with the very weights being trained (so any gap is numerics: dtype, kernels,
    /// batch shape), the most reported cause of collapse in the anchors' trackers. Near 0 in fp32.
    /// </summary>
    static void Mismatch(Tensor logProbs, TrainingSample[] micro, Tensor mask, long width, long? currentVersion, Metrics metrics)
    {
        using var noGrad = no_grad();
        var sampled = Padded(micro.Select(s => s.BehaviourLogProbs), width);                                           // (b, L)
        var same = tensor(micro.Select(s => currentVersion is null || s.WeightsVersion == currentVersion ? 1f : 0f).ToArray()).unsqueeze(1) * mask; // (b, L)
        double tokens = same.sum().item<float>();
        if (tokens == 0) return;
        var gap = (logProbs.detach() - sampled).abs() * same;                                                         // (b, L)
        metrics["actor/logprob_mismatch_mean"] = gap.sum().item<float>() / tokens;
        metrics["actor/logprob_mismatch_max"] = gap.max().item<float>();
    }

    /// <summary>The mismatch from the old log-probs: the sampler's weights are the ones before this batch's first update.</summary>
    static void Mismatch(Dictionary<TrainingSample, float[]> old, long? currentVersion, Metrics metrics)
    {
        double sum = 0, max = 0;
        long tokens = 0;
        foreach (var (sample, logProbs) in old)
        {
            if (sample.Masked || currentVersion is not null && sample.WeightsVersion != currentVersion) continue;
            for (int t = 0; t < logProbs.Length; t++)
            {
                double gap = Math.Abs(logProbs[t] - sample.BehaviourLogProbs[t]);
                sum += gap;
                max = Math.Max(max, gap);
            }
            tokens += logProbs.Length;
        }
        if (tokens == 0) return;
        metrics["actor/logprob_mismatch_mean"] = sum / tokens;
        metrics["actor/logprob_mismatch_max"] = max;
    }

    /// <summary>Sums the per-micro-batch metrics: losses add (they are already batch-normalised), extremes combine, the rest token-weighted.</summary>
    static void Accumulate(Metrics totals, Metrics metrics, double tokens)
    {
        foreach (var (k, v) in metrics)
        {
            if (k.EndsWith("_max", StringComparison.Ordinal)) totals[k] = totals.TryGetValue(k, out var m) ? Math.Max(m, v) : v;
            else if (k.EndsWith("_min", StringComparison.Ordinal)) totals[k] = totals.TryGetValue(k, out var m) ? Math.Min(m, v) : v;
            else if (k is "actor/pg_loss" or "actor/kl_loss") totals[k] = totals.GetValueOrDefault(k) + v;
            else totals[k] = totals.GetValueOrDefault(k) + v * tokens;
        }
    }

    static Tensor Padded(IEnumerable<float[]> rows, long width)
    {
        var list = rows.ToList();
        var data = new float[list.Count * width];
        for (int i = 0; i < list.Count; i++) Array.Copy(list[i], 0, data, i * width, Math.Min(list[i].Length, width));
        return tensor(data, [list.Count, width]);
    }
}
