namespace RolloutCluster.Data;

/// <summary>
/// How a bare question becomes the model's prompt, and how a worked solution becomes the completion
/// the model should write: &lt;think&gt;reasoning&lt;/think&gt;&lt;answer&gt;answer&lt;/answer&gt; (the R1-Zero format).
/// </summary>
public sealed record PromptTemplate(string Name, string Prefix, string Suffix)
{
    /// <summary>DeepSeek-R1-Zero's template (arXiv 2501.12948, table 1), verbatim.</summary>
    public static readonly PromptTemplate R1Zero = new("r1-zero",
        "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. " +
        "The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. " +
        "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, " +
        "i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: ",
        ". Assistant:");

    /// <summary>
    /// The same contract without the instruction text: the question, a newline, then the completion in
    /// the R1-Zero format. For small models trained from scratch, where ~400 bytes of fixed preamble
    /// would multiply the cost of every sequence and teach nothing.
    /// </summary>
    public static readonly PromptTemplate R1Compact = new("r1-compact", "", "\n");

    /// <summary>The question as it is, for tasks whose completion continues the prompt (HumanEval's function stubs).</summary>
    public static readonly PromptTemplate Plain = new("plain", "", "");

    /// <summary>The model's own chat template (tokenizer_config.json), with the task's system message and a generation prompt.</summary>
    public static readonly PromptTemplate Chat = new("chat", "", "");

    public static IReadOnlyList<PromptTemplate> All => [R1Zero, R1Compact, Plain, Chat];

    public static PromptTemplate Get(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown prompt template '{name}'; known: {string.Join(", ", All.Select(t => t.Name))}");

    public string Render(string question) => Prefix + question + Suffix;

    /// <summary>The target completion for a worked solution (no end-of-sequence token).</summary>
    public static string Completion(string reasoning, string answer) => $"<think>{reasoning}</think><answer>{answer}</answer>";
}
