using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Scoring;

/// <summary>
/// Per-token log-probabilities (and entropies) of completions: (B, L) tensors, right-padded to the
/// longest completion L, with a float mask of real tokens. Differentiable when grad is enabled.
/// </summary>
public sealed record TokenScores(Tensor LogProbs, Tensor? Entropy, Tensor Mask) : IDisposable
{
    public void Dispose()
    {
        LogProbs.Dispose();
        Entropy?.Dispose();
        Mask.Dispose();
    }
}

/// <summary>
/// The learner's side of sampling: one teacher-forced forward pass over prompt + completion gives
/// log_softmax(logits / T) at every completion token, the same quantity the sampler records.
/// </summary>
public static class SequenceScorer
{
    /// <summary>
    /// prompts[i] and completions[i] form row i. Rows are left-padded as whole sequences so that
    /// every completion ends at the last slot. Returns log-probs (B, L), entropy (B, L) when asked,
    /// and mask (B, L) float32. vocabLimit (the tokenizer's size) restricts the distribution to the
    /// ids the sampler may draw, as <see cref="Sampling.Sampler"/> does. The LM head runs in chunks of
    /// rows (<see cref="TokenLogProbs"/>; chunkRows 0 sizes them by bytes), never over (B, T, V).
    /// </summary>
    public static TokenScores Score(CausalLm model, IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions,
        float temperature = 1f, bool entropy = false, int padId = 0, int? vocabLimit = null, int chunkRows = 0)
    {
        if (prompts.Count != completions.Count) throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions");
        if (prompts.Count == 0) throw new ArgumentException("no rows to score");
        if (prompts.Any(x => x.Length == 0)) throw new ArgumentException("every prompt needs at least one token");
        if (temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), "teacher-forced scoring needs a positive temperature");
        int batch = prompts.Count;
        var (ids, valid, total) = AttentionMask.LeftPad(prompts, completions, padId);
        int longest = Math.Max(1, completions.Max(c => c.Length));
        var device = model.Device;

        var index = new long[batch * longest];   // slot whose logits predict completion token j
        var target = new long[batch * longest];
        var mask = new float[batch * longest];
        for (int i = 0; i < batch; i++)
        {
            var (p, c) = (prompts[i], completions[i]);
            int offset = total - p.Length - c.Length;
            for (int j = 0; j < longest; j++)
            {
                bool real = j < c.Length;
                index[i * longest + j] = real ? offset + p.Length + j - 1 : total - 1;
                target[i * longest + j] = real ? c[j] : 0;
                mask[i * longest + j] = real ? 1f : 0f;
            }
        }

        using var scope = NewDisposeScope();
        var input = tensor(ids, [batch, total], device: device);                          // (B, T)
        var validT = tensor(valid, [batch, total], device: device);                        // (B, T)
        bool padded = valid.Any(v => !v);
        var attention = padded ? AttentionMask.Build(validT, 0, total) : null;            // (B, 1, T, T)
        var hidden = model.Hidden(input, AttentionMask.Positions(validT), attention);     // (B, T, C)
        // Only the slots that predict a real completion token go through the LM head, in chunks (TokenLogProbs).
        var realRows = Enumerable.Range(0, batch * longest).Where(r => mask[r] > 0).ToArray();
        var rows = tensor(realRows.Select(r => (long)r).ToArray(), device: device);      // (N)
        var slots = tensor(realRows.Select(r => (long)(r / longest * total + index[r])).ToArray(), device: device); // (N)
        var targets = tensor(realRows.Select(r => target[r]).ToArray(), device: device); // (N)
        var picked = hidden.reshape(batch * total, -1).index_select(0, slots);           // (N, C)
        var weight = model.OutputWeight;                                                  // (V, C)
        if (vocabLimit is { } limit && limit < weight.shape[0]) weight = weight.narrow(0, 0, limit);
        var (tokenLogProbs, tokenEntropy) = TokenLogProbs.Compute(picked, weight, targets, temperature, chunkRows);
        var logProbs = zeros(batch * longest, dtype: float32, device: device).index_add(0, rows, tokenLogProbs, 1).reshape(batch, longest); // (B, L)
        var maskT = tensor(mask, [batch, longest], device: device);                      // (B, L)
        Tensor? ent = entropy ? zeros(batch * longest, dtype: float32, device: device).index_add(0, rows, tokenEntropy, 1).reshape(batch, longest).MoveToOuterDisposeScope() : null; // (B, L)
        return new TokenScores(logProbs.MoveToOuterDisposeScope(), ent, maskT.MoveToOuterDisposeScope());
    }
}
