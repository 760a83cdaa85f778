namespace RolloutCluster.Rewards;

/// <summary>
/// Reasoning effort as a prompt control: the prompt asks for low, medium or high effort (a line
/// "Reasoning effort: LEVEL" before the question; under a chat template, in the system message), and the length reward
/// with <c>effort: prompt</c> holds each completion to its own level's budget, so GRPO teaches the
/// policy to think as long as it is asked to.
/// </summary>
public static class Effort
{
    public static readonly IReadOnlyList<string> Levels = ["low", "medium", "high"];

    /// <summary>The line a prompt carries to ask for a level.</summary>
    public static string Directive(string level) => $"Reasoning effort: {level}";

    /// <summary>The level, or <see cref="ArgumentException"/> naming the known ones.</summary>
    public static string Check(string level) => Levels.Contains(level) ? level
        : throw new ArgumentException($"unknown effort '{level}'; known: {string.Join(", ", Levels)}");
}
