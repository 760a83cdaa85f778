using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Sampling;

/// <summary>
/// Picks the next token of each row from its logits. Sampling inverts the CDF with searchsorted
/// instead of torch.multinomial, which costs ~20x more over a large vocabulary (PLATFORM.md).
/// </summary>
public static class TokenSelection
{
    /// <summary>
    /// logits: (B, V) float32; uniforms: (B) float32 in [0, 1). Returns tokens (B) int64 and their
    /// log-probabilities (B) under log_softmax(logits / T) (raw logits when greedy).
    /// </summary>
    public static (Tensor Tokens, Tensor LogProbs) Select(Tensor logits, SamplingParams p, Tensor uniforms, SamplingMethod method = SamplingMethod.InverseCdf)
    {
        if (p.Temperature == 0f)
        {
            var greedy = logits.argmax(-1);                                              // (B)
            var lp = logits.log_softmax(-1).gather(1, greedy.unsqueeze(1)).squeeze(1);   // (B)
            return (greedy, lp);
        }
        var scaled = p.Temperature == 1f ? logits : logits / p.Temperature;             // (B, V)
        var logProbs = scaled.log_softmax(-1);                                          // (B, V)
        long vocab = logits.shape[1];
        Tensor probs, candidates = null!;
        bool truncated = (p.TopK > 0 && p.TopK < vocab) || p.TopP < 1f;
        if (!truncated) probs = logProbs.exp();                                         // (B, V)
        else
        {
            var (values, indices) = p.TopK > 0 && p.TopK < vocab
                ? scaled.topk(p.TopK, dim: -1, largest: true, sorted: true)            // (B, K)
                : scaled.sort(dim: -1, descending: true);                               // (B, V)
            probs = values.softmax(-1);
            candidates = indices;
            if (p.TopP < 1f)
            {
                var before = probs.cumsum(-1) - probs;                                  // mass ranked above each token
                probs = probs.masked_fill(before.gt(p.TopP), 0.0);
            }
        }
        Tensor choice;
        if (method == SamplingMethod.Multinomial) choice = probs.multinomial(1);        // (B, 1)
        else
        {
            var cdf = probs.cumsum(-1);                                                  // (B, K)
            var target = (uniforms * cdf.narrow(1, cdf.shape[1] - 1, 1).squeeze(1)).unsqueeze(1); // (B, 1)
            choice = searchsorted(cdf, target, right: true).clamp_max(cdf.shape[1] - 1); // (B, 1)
        }
        var tokens = truncated ? candidates.gather(1, choice) : choice;                  // (B, 1)
        var tokenLogProbs = logProbs.gather(1, tokens).squeeze(1);                       // (B)
        return (tokens.squeeze(1), tokenLogProbs);
    }
}
