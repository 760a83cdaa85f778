namespace RolloutCluster.Data;

/// <summary>
/// One task instance: the bare question (e.g. "Compute: 37 + 485", a GSM8K question, or for code the
/// text the completion continues), its reference answer ("" when the task has none, e.g. code), and
/// an optional worked reasoning (the text inside &lt;think&gt;) for supervised fine-tuning. Code tasks add the test code run after the
/// program, the function check() is called with, and independent test statements.
/// </summary>
public sealed record Problem(string Id, string Question, string Answer, string? Reasoning = null)
{
    public string? Tests { get; init; }
    public string? EntryPoint { get; init; }
    public IReadOnlyList<string>? TestCases { get; init; }

    /// <summary>The conversation before the answer (system, user and earlier turns) when the row was a chat; rendered by the model's chat template.</summary>
    public IReadOnlyList<ChatTurn>? Messages { get; init; }

    /// <summary>A complete target completion, verbatim (a human's or another model's), for SFT and distillation.</summary>
    public string? Solution { get; init; }

    /// <summary>
    /// Earlier attempts at this problem with the feedback each got (self-refinement): rendered after the
    /// prompt, as assistant and user turns under the chat template. Rewards still read the bare problem.
    /// </summary>
    public IReadOnlyList<Refinement>? Refinements { get; init; }

    /// <summary>The reasoning effort the prompt asks for (<see cref="Rewards.Effort"/>), or null for none.</summary>
    public string? Effort { get; init; }

    /// <summary>Whether a code reward can run this problem.</summary>
    public bool HasTests => Tests is not null || TestCases is { Count: > 0 };
}

/// <summary>An earlier attempt (a completion) and the extrinsic feedback it got.</summary>
public sealed record Refinement(string Attempt, string Feedback);

/// <summary>One turn of a conversation.</summary>
public sealed record ChatTurn(string Role, string Content);
