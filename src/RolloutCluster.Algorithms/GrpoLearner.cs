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
}

/// <summary>
/// One GRPO optimizer step over a batch of scored completions: micro-batched teacher-forced passes,
/// clipped policy loss (+ optional KL to a frozen reference), accumulated gradients, clipping and
/// AdamW through <see cref="TrainingOptimizer"/>. One update per batch, so the proximal policy is the
/// current one (ratio 1, clipping inactive) and only the behaviour policy can differ. Completions with
/// zero advantage are skipped in the backward pass when there is no KL term (their gradient is zero);
/// the loss is still normalised over the whole batch, so the step is the full batch's.
/// </summary>
public sealed class GrpoLearner(CausalLm policy, CausalLm? reference, TrainingOptimizer optimizer, GrpoLearnerConfig config, int vocabLimit, int padId)
{
    /// <param name="currentVersion">The weights version being trained: completions sampled with it report actor/logprob_mismatch_* (null: all do).</param>
    public Metrics Step(IReadOnlyList<TrainingSample> batch, long? currentVersion = null)
    {
        if (batch.Count == 0) throw new ArgumentException("empty batch");
        if (config.KlCoefficient > 0 && reference is null) throw new InvalidOperationException("a KL coefficient needs a reference model");
        policy.train();
        optimizer.ZeroGrad();
        var scale = new AggregationScale(
            batch.Sum(s => s.Masked ? 0 : s.Completion.Length),
            batch.Count,
            batch.Count(s => !s.Masked && s.Completion.Length > 0));
        var trained = config.KlCoefficient > 0 ? batch.ToList() : batch.Where(s => s.Advantage != 0 && !s.Masked && s.Completion.Length > 0).ToList();
        if (trained.Count == 0)
        {
            // No completion carries a gradient; an AdamW step on zero gradients would still move the
            // weights (momentum, weight decay), so there is no step at all.
            return new Metrics { ["actor/trained_sequences"] = 0, ["actor/skipped_step"] = 0, ["actor/no_signal_step"] = 1 };
        }
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
            var (loss, metrics) = PolicyLoss.Compute(scores.LogProbs, scores.LogProbs.detach(), behaviour, advantages, mask, config.Loss, scale);
            Mismatch(scores.LogProbs, micro, mask, width, currentVersion, metrics);
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
        foreach (var (k, v) in totals) result[k] = k.EndsWith("_max", StringComparison.Ordinal) || k.EndsWith("_min", StringComparison.Ordinal) || k == "actor/pg_loss" || k == "actor/kl_loss"
            ? v : weightSum > 0 ? v / weightSum : 0;
        result["actor/grad_norm"] = outcome.GradNorm;
        result["actor/lr"] = outcome.LearningRate;
        result["actor/skipped_step"] = outcome.Skipped ? 1 : 0;
        result["actor/trained_sequences"] = trained.Count;
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
