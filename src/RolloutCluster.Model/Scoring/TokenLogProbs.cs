using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Scoring;

/// <summary>
/// log softmax(h Wᵀ / T)[target] and the entropy of that distribution for N rows, computed in row
/// chunks so that the (N, V) float32 logits never exist whole and are never kept for the backward
/// pass: backward recomputes each chunk's logits (one extra (c, C) x (C, V) product per chunk). At
/// Qwen's 151,936-token vocabulary, 512 tokens and 64 rows, the unchunked logits with their softmax
/// kept for backward cost ~40 GB; here ~64 MiB at a time. The "fused linear cross-entropy" of
/// Liger-Kernel and of veRL's entropy kernels, on CPU and CUDA alike since it is plain torch ops.
/// </summary>
public sealed class TokenLogProbs : autograd.MultiTensorFunction<TokenLogProbs>
{
    /// <summary>Bytes of float32 logits a chunk may hold (its rows = this / (V · 4)).</summary>
    public const long ChunkBytes = 64L << 20;

    public override string Name => nameof(TokenLogProbs);

    /// <summary>
    /// hidden (N, C) and weight (V, C) in the model's dtype, targets (N) int64 → [log-probs (N) float32,
    /// entropies (N) float32, not differentiable]. chunkRows 0 sizes chunks by <see cref="ChunkBytes"/>.
    /// The logits are computed as the sampler computes them: the product in the model's dtype, then float32.
    /// </summary>
    public static (Tensor LogProbs, Tensor Entropy) Compute(Tensor hidden, Tensor weight, Tensor targets, float temperature, int chunkRows = 0)
    {
        var outputs = apply(hidden, weight, targets, temperature, chunkRows);
        return (outputs[0], outputs[1]);
    }

    static long Rows(long n, long vocab, int chunkRows) => Math.Max(1, Math.Min(n, chunkRows > 0 ? chunkRows : ChunkBytes / (vocab * 4)));

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (hidden, weight, targets) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        float temperature = (float)vars[3];
        int chunkRows = (int)vars[4];
        long n = hidden.shape[0], rows = Rows(n, weight.shape[0], chunkRows);
        var logProbs = empty(n, float32, hidden.device);                      // (N)
        var entropy = empty(n, float32, hidden.device);                       // (N)
        var lse = empty(n, float32, hidden.device);                           // (N)
        for (long start = 0; start < n; start += rows)
        {
            using var scope = NewDisposeScope();
            long c = Math.Min(rows, n - start);
            var z = Logits(hidden.narrow(0, start, c), weight, temperature); // (c, V)
            var chunkLse = z.logsumexp(1, keepdim: true);                     // (c, 1)
            var logP = z - chunkLse;                                          // (c, V)
            logProbs.narrow(0, start, c).copy_(logP.gather(1, targets.narrow(0, start, c).unsqueeze(1)).squeeze(1));
            entropy.narrow(0, start, c).copy_(-(logP.exp() * logP).sum(1));
            lse.narrow(0, start, c).copy_(chunkLse.squeeze(1));
        }
        ctx.save_for_backward([hidden, weight, targets, lse]);
        ctx.save_data("temperature", temperature);
        ctx.save_data("rows", rows);
        ctx.mark_non_differentiable([entropy]);
        // Undefined incoming gradients stay undefined: materialising them would read TorchSharp's cached
        // output templates, which the caller's dispose scope has freed by the time backward runs.
        ctx.set_materialize_grads(false);
        return [logProbs, entropy];
    }

    /// <summary>d log p_t / dz = onehot(t) − p per row, scaled by the incoming gradient; then through z = h Wᵀ / T.</summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        var (hidden, weight, targets, lse) = (saved[0], saved[1], saved[2], saved[3]);
        float temperature = (float)ctx.get_data("temperature");
        long rows = (long)ctx.get_data("rows"), n = hidden.shape[0];
        var grad = gradOutputs[0];                                            // (N) float32
        var gradHidden = zeros_like(hidden);                                  // (N, C)
        var gradWeight = zeros_like(weight);                                  // (V, C)
        using (no_grad())
        {
            for (long start = 0; start < n; start += rows)
            {
                using var scope = NewDisposeScope();
                long c = Math.Min(rows, n - start);
                var h = hidden.narrow(0, start, c);                           // (c, C)
                var g = grad.narrow(0, start, c).unsqueeze(1);                // (c, 1)
                var p = (Logits(h, weight, temperature) - lse.narrow(0, start, c).unsqueeze(1)).exp(); // (c, V)
                var dz = (-p * g).scatter_add_(1, targets.narrow(0, start, c).unsqueeze(1), g); // (c, V)
                var dLogits = (dz / temperature).to(weight.dtype);           // (c, V)
                gradHidden.narrow(0, start, c).copy_(dLogits.mm(weight));     // (c, C)
                gradWeight.addmm_(dLogits.t(), h);                            // (V, C)
            }
        }
        return [gradHidden, gradWeight, null!, null!, null!];
    }

    static Tensor Logits(Tensor hidden, Tensor weight, float temperature)
    {
        var z = nn.functional.linear(hidden, weight).to(float32);            // (c, V)
        return temperature == 1f ? z : z / temperature;
    }
}
