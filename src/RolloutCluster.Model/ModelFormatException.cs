namespace RolloutCluster.Model;

/// <summary>
/// A checkpoint, configuration or tokenizer file that cannot be used. The message names the file
/// and the problem in one line, so a command-line user sees what to fix without a stack trace.
/// </summary>
public sealed class ModelFormatException(string file, string problem, Exception? inner = null)
    : Exception($"{file}: {problem}", inner)
{
    /// <summary>The file at fault.</summary>
    public string File { get; } = file;

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; } = problem;
}
