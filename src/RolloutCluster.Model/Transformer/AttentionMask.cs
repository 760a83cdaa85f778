using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>Masks and positions for batches whose rows are left-padded to a common length.</summary>
public static class AttentionMask
{
    /// <summary>
    /// keyValid: (B, Tk) bool, true where a slot holds a real token. Queries occupy slots
    /// [start, start + T). Returns (B, 1, T, Tk) bool: causal, real keys only. A query always sees
    /// its own slot, so padding rows get finite (ignored) outputs instead of NaN from an empty softmax.
    /// </summary>
    public static Tensor Build(Tensor keyValid, long start, long t)
    {
        long tk = keyValid.shape[1];
        var device = keyValid.device;
        var qPos = arange(start, start + t, dtype: int64, device: device).unsqueeze(1); // (T, 1)
        var kPos = arange(tk, dtype: int64, device: device).unsqueeze(0);              // (1, Tk)
        var causal = kPos.le(qPos);                                                     // (T, Tk)
        var allowed = causal.unsqueeze(0).logical_and(keyValid.unsqueeze(1));           // (B, T, Tk)
        allowed = allowed.logical_or(kPos.eq(qPos).unsqueeze(0));                       // (B, T, Tk)
        return allowed.unsqueeze(1);                                                    // (B, 1, T, Tk)
    }

    /// <summary>
    /// Rows of (prompt, completion) ids left-padded with padId to the longest row's length: ids and
    /// valid (true where a slot holds a real token), each B x total, row-major. Every row's last token
    /// sits in the last slot.
    /// </summary>
    public static (long[] Ids, bool[] Valid, int Total) LeftPad(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int padId)
    {
        int batch = prompts.Count;
        int total = Enumerable.Range(0, batch).Max(i => prompts[i].Length + completions[i].Length);
        var ids = new long[batch * total];
        var valid = new bool[batch * total];
        for (int i = 0; i < batch; i++)
        {
            var (p, c) = (prompts[i], completions[i]);
            int offset = total - p.Length - c.Length;
            for (int j = 0; j < total; j++)
            {
                int k = j - offset;
                valid[i * total + j] = k >= 0;
                ids[i * total + j] = k < 0 ? padId : k < p.Length ? p[k] : c[k - p.Length];
            }
        }
        return (ids, valid, total);
    }

    /// <summary>valid: (B, T) bool → positions (B, T) int64 counting real tokens from 0 in each row.</summary>
    public static Tensor Positions(Tensor valid) =>
        (valid.to(int64).cumsum(1) - 1).clamp_min(0);                                   // (B, T)
}
