using System.Globalization;
using System.Text.RegularExpressions;
using RolloutCluster.Data;
using RolloutCluster.Rewards;

namespace RolloutCluster.Training.Curation;

/// <summary>
/// A heuristic that drops a verified-correct sample from a rejection-sampled dataset (DeepSeek-R1,
/// section 2.3.3: chains of thought with mixed languages, long paragraphs and code blocks were
/// filtered out). Returns why it rejects, or null to keep.
/// </summary>
public interface ISampleFilter
{
    /// <summary>The name job files use and counts are reported under.</summary>
    string Name { get; }

    /// <summary>Why <paramref name="completion"/> should not be kept as a target for <paramref name="problem"/>; null keeps it.</summary>
    string? Reject(Problem problem, string completion);
}

/// <summary>Mixed languages: fewer than <paramref name="minShare"/> of the letters in the expected script (texts without letters pass).</summary>
public sealed class LanguageMixingFilter(string script = "latin", double minShare = 0.95) : ISampleFilter
{
    readonly LanguageReward _language = new(script);

    public string Name => "language_mixing";

    public string? Reject(Problem problem, string completion) =>
        _language.Share(completion) is var (share, letters) && letters > 0 && share < minShare
            ? string.Create(CultureInfo.InvariantCulture, $"{share * 100:F0}% of {letters} letters in {script}, under {minShare * 100:F0}%") : null;
}

/// <summary>Long paragraphs: a paragraph (text between blank lines) over <paramref name="maxChars"/> characters.</summary>
public sealed partial class LongParagraphFilter(int maxChars = 1000) : ISampleFilter
{
    public string Name => "long_paragraphs";

    public string? Reject(Problem problem, string completion) =>
        BlankLine().Split(completion).Max(p => p.Trim().Length) is var longest && longest > maxChars
            ? $"a paragraph of {longest} characters, over {maxChars}" : null;

    [GeneratedRegex(@"\n\s*\n")]
    private static partial Regex BlankLine();
}

/// <summary>Code blocks where none belong: a fenced block (```) in the answer to a problem that is not a code task.</summary>
public sealed class CodeBlockFilter : ISampleFilter
{
    public string Name => "code_blocks";

    public string? Reject(Problem problem, string completion) =>
        !problem.HasTests && completion.Contains("```", StringComparison.Ordinal) ? "a code block in a problem without tests" : null;
}

/// <summary>Repetition: more than <paramref name="maxRatio"/> of the word n-grams repeat an earlier one (loops, degenerate text).</summary>
public sealed class RepetitionFilter(int n = 4, double maxRatio = 0.5) : ISampleFilter
{
    public string Name => "repetition";

    public string? Reject(Problem problem, string completion)
    {
        var words = completion.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        int grams = words.Length - n + 1;
        if (grams < 2) return null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int repeated = 0;
        for (int i = 0; i < grams; i++)
            if (!seen.Add(string.Join(' ', words, i, n))) repeated++;
        double ratio = (double)repeated / grams;
        return ratio > maxRatio ? string.Create(CultureInfo.InvariantCulture, $"{ratio * 100:F0}% of {n}-word sequences repeat, over {maxRatio * 100:F0}%") : null;
    }
}
