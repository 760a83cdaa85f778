using RolloutCluster.Model.Scoring;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>A (prompt, completion) pair for supervised fine-tuning; only the completion is learned.</summary>
public sealed record SftExample(int[] Prompt, int[] Completion);

/// <summary>
/// Supervised fine-tuning on completions (cold start, distillation): token-mean cross-entropy over
/// completion tokens only, prompts masked out, micro-batched with exact gradient accumulation.
/// </summary>
public sealed class SftTrainer(CausalLm model, TrainingOptimizer optimizer, int microBatchSize, int vocabLimit, int padId, int maxTokensPerMicroBatch = 0)
{
    public Metrics Step(IReadOnlyList<SftExample> batch)
    {
        if (batch.Count == 0) throw new ArgumentException("empty batch");
        model.train();
        optimizer.ZeroGrad();
        double totalTokens = batch.Sum(e => e.Completion.Length), lossSum = 0, correct = 0;
        if (totalTokens == 0) throw new ArgumentException("no completion tokens to learn from");
        foreach (var micro in MicroBatches.Split(batch, e => e.Prompt.Length + e.Completion.Length, microBatchSize, maxTokensPerMicroBatch))
        {
            using var scope = NewDisposeScope();
            using var scores = SequenceScorer.Score(model, micro.Select(e => e.Prompt).ToList(), micro.Select(e => e.Completion).ToList(),
                padId: padId, vocabLimit: vocabLimit);
            var nll = -(scores.LogProbs * scores.Mask).sum();
            (nll / totalTokens).backward();
            lossSum += nll.item<float>();
            // A token counts as predicted when it had probability > 1/2, i.e. it must be the argmax.
            correct += (scores.LogProbs.gt(Math.Log(0.5)).to(float32) * scores.Mask).sum().item<float>();
        }
        var outcome = optimizer.Step();
        return new Metrics
        {
            ["sft/loss"] = lossSum / totalTokens,
            ["sft/token_accuracy"] = correct / totalTokens,
            ["sft/tokens"] = totalTokens,
            ["actor/grad_norm"] = outcome.GradNorm,
            ["actor/lr"] = outcome.LearningRate,
            ["actor/skipped_step"] = outcome.Skipped ? 1 : 0,
        };
    }
}
