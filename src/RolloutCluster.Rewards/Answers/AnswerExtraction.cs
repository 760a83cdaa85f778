using System.Text.RegularExpressions;

namespace RolloutCluster.Rewards.Answers;

/// <summary>
/// Finds the final answer a completion states. Four forms are recognised — &lt;answer&gt;…&lt;/answer&gt;,
/// GSM8K's "#### x", \boxed{…} (nested braces allowed) and "the answer is x" — and the one that
/// appears last in the text wins.
/// </summary>
public static partial class AnswerExtraction
{
    [GeneratedRegex(@"<answer>(.*?)</answer>", RegexOptions.Singleline)]
    private static partial Regex AnswerTag();

    [GeneratedRegex(@"####\s*([^\n]*)")]
    private static partial Regex Hashes();

    [GeneratedRegex(@"\\(?:boxed|fbox)\s*\{")]
    private static partial Regex Boxed();

    [GeneratedRegex(@"(?:final\s+)?answer\s+is\s*[:：]?\s*(.+?)(?:\.\s|\.$|\n|$)", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerIs();

    /// <summary>The last stated answer, trimmed, or null when the completion states none.</summary>
    public static string? Extract(string completion)
    {
        (int Position, string Text)? best = null;
        void Consider(int position, string text)
        {
            if (best is null || position >= best.Value.Position) best = (position, text.Trim());
        }
        foreach (Match m in AnswerTag().Matches(completion)) Consider(m.Index, m.Groups[1].Value);
        foreach (Match m in Hashes().Matches(completion)) Consider(m.Index, m.Groups[1].Value);
        foreach (Match m in AnswerIs().Matches(completion)) Consider(m.Index, m.Groups[1].Value);
        foreach (Match m in Boxed().Matches(completion))
        {
            var inner = Balanced(completion, m.Index + m.Length);
            if (inner is not null) Consider(m.Index, inner);
        }
        return best?.Text;
    }

    /// <summary>The text up to the brace that closes the one just before start, or null if it never closes.</summary>
    static string? Balanced(string text, int start)
    {
        int depth = 1;
        for (int i = start; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '{' or '}') { i++; continue; }
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return text[start..i];
        }
        return null;
    }
}
