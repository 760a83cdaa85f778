using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Sampling;

/// <summary>
/// Picks the next token of each row from its logits. Sampling inverts the CDF with searchsorted
/// instead of torch.multinomial, which costs ~20x more over a large vocabulary (PLATFORM.md), and
/// the full-vocabulary pass works on unnormalised exp(l - max), so no (B, V) log-softmax is built.
/// </summary>
public static class TokenSelection
{
    /// <summary>
    /// logits: (B, V) float32; uniforms: (B) float32 in [0, 1). Returns tokens (B) int64 and their
    /// log-probabilities (B) under log_softmax(logits / T) (raw logits when greedy).
    /// </summary>
    public static (Tensor Tokens, Tensor LogProbs) Select(Tensor logits, SamplingParams p, Tensor uniforms, SamplingMethod method = SamplingMethod.InverseCdf)
    {
        var scaled = p.Temperature is 0f or 1f ? logits : logits / p.Temperature;     // (B, V)
        var max = scaled.amax([-1], keepdim: true);                                    // (B, 1)
        var weights = (scaled - max).exp_();                                           // (B, V) unnormalised probabilities
        var logTotal = weights.sum(-1, keepdim: true).log_();                          // (B, 1) log Σ exp(l - max)

        Tensor tokens;                                                                  // (B, 1)
        long vocab = logits.shape[1];
        bool topK = p.TopK > 0 && p.TopK < vocab;
        if (p.Temperature == 0f) tokens = scaled.argmax(-1, keepdim: true);
        else if (!topK && p.TopP >= 1f) tokens = Draw(weights, uniforms, method);
        else
        {
            var (values, indices) = topK
                ? scaled.topk(p.TopK, dim: -1, largest: true, sorted: true)            // (B, K)
                : scaled.sort(dim: -1, descending: true);                               // (B, V)
            var kept = (values - max).exp_();                                           // (B, K)
            if (p.TopP < 1f)
            {
                // Nucleus over the (top-k) distribution: drop tokens once the mass ranked above them reaches top_p.
                var probs = kept / kept.sum(-1, keepdim: true);
                kept = kept.masked_fill((probs.cumsum(-1) - probs).gt(p.TopP), 0.0);
            }
            tokens = indices.gather(1, Draw(kept, uniforms, method));
        }
        var logProbs = (scaled.gather(1, tokens) - max - logTotal).squeeze(1);          // (B)
        return (tokens.squeeze(1), logProbs);
    }

    /// <summary>weights: (B, K) non-negative, unnormalised → the chosen column (B, 1).</summary>
    static Tensor Draw(Tensor weights, Tensor uniforms, SamplingMethod method)
    {
        if (method == SamplingMethod.Multinomial) return weights.multinomial(1);       // (B, 1)
        var cdf = weights.cumsum(-1);                                                   // (B, K)
        long last = cdf.shape[1] - 1;
        var target = uniforms.unsqueeze(1) * cdf.narrow(1, last, 1);                    // (B, 1)
        return searchsorted(cdf, target, right: true).clamp_max(last);                  // (B, 1)
    }
}
