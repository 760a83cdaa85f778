namespace RolloutCluster.Model.Sampling;

/// <summary>How to sample completions. Temperature 0 is greedy decoding.</summary>
public sealed record SamplingParams
{
    public float Temperature { get; init; } = 1f;

    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability reaches TopP (1 = off).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens (0 = off).</summary>
    public int TopK { get; init; }

    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Tokens that end a completion; they are kept in the token ids (the policy chose them) but not in the text.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Strings that end a completion; the text is cut right after the first one.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Seed of the row seeds when none are given: row i uses a seed derived from (Seed, i).</summary>
    public long Seed { get; init; }

    /// <summary>Returns what is wrong, naming the field, or null.</summary>
    public string? Validate() =>
        Temperature < 0 || float.IsNaN(Temperature) ? $"temperature must be >= 0, found {Temperature}"
        : TopP is <= 0 or > 1 || float.IsNaN(TopP) ? $"top_p must be in (0, 1], found {TopP}"
        : TopK < 0 ? $"top_k must be >= 0, found {TopK}"
        : MaxNewTokens <= 0 ? $"max_new_tokens must be positive, found {MaxNewTokens}"
        : StopStrings.Any(string.IsNullOrEmpty) ? "stop strings must not be empty"
        : null;
}

/// <summary>Why a completion ended.</summary>
public enum FinishReason
{
    /// <summary>A stop token or stop string.</summary>
    Stop,

    /// <summary>max_new_tokens reached.</summary>
    Length,
}

/// <summary>
/// One sampled completion: its tokens, the log-probability of each under the sampling distribution
/// (log_softmax(logits / T), before top-k/top-p truncation, which is what the learner recomputes),
/// its text and why it ended.
/// </summary>
public sealed record Completion(int[] TokenIds, float[] LogProbs, string Text, FinishReason Finish);

/// <summary>How a token is drawn from the (truncated) distribution.</summary>
public enum SamplingMethod
{
    /// <summary>searchsorted over the cumulative distribution with a counter-based uniform per row.</summary>
    InverseCdf,

    /// <summary>torch.multinomial, as most PyTorch code does; slower, and its draws depend on the batch.</summary>
    Multinomial,
}
