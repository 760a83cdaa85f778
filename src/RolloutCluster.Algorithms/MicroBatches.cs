namespace RolloutCluster.Algorithms;

/// <summary>
/// How a batch is cut into forward/backward passes. A pass costs memory in proportion to its padded
/// tokens (rows × the longest row), so a cap on rows alone lets a few long completions blow up one
/// pass: with a token budget the passes are cut, in order, where the next row would take the padded
/// size past it (veRL's use_dynamic_bsz / ppo_max_token_len_per_gpu, OpenRLHF's packing budget).
/// </summary>
public static class MicroBatches
{
    /// <summary>
    /// Consecutive runs of items, each at most maxRows long and, when maxTokens &gt; 0, with
    /// rows × longest length at most maxTokens; a single item longer than the budget is a pass of its own.
    /// The order is kept, so gradients accumulate in the same order whatever the budget.
    /// </summary>
    public static List<T[]> Split<T>(IReadOnlyList<T> items, Func<T, int> length, int maxRows, int maxTokens = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        var passes = new List<T[]>();
        var current = new List<T>();
        int longest = 0;
        foreach (var item in items)
        {
            int next = Math.Max(longest, length(item));
            bool full = current.Count == maxRows || maxTokens > 0 && current.Count > 0 && (long)(current.Count + 1) * next > maxTokens;
            if (full)
            {
                passes.Add([.. current]);
                current.Clear();
                next = length(item);
            }
            current.Add(item);
            longest = next;
        }
        if (current.Count > 0) passes.Add([.. current]);
        return passes;
    }
}
