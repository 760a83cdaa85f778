namespace RolloutCluster.Data;

/// <summary>
/// One task instance: the bare question (e.g. "Compute: 37 + 485"), its reference answer, and an
/// optional worked solution (the reasoning inside &lt;think&gt;) for supervised cold starts.
/// </summary>
public sealed record Problem(string Id, string Question, string Answer, string? Reasoning = null);
