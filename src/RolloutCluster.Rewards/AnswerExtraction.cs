using System.Text.RegularExpressions;

namespace RolloutCluster.Rewards;

/// <summary>Finds the final answer a completion states.</summary>
public static partial class AnswerExtraction
{
    [GeneratedRegex(@"<answer>(.*?)</answer>", RegexOptions.Singleline)]
    private static partial Regex AnswerTag();

    /// <summary>The text of the last &lt;answer&gt;…&lt;/answer&gt;, trimmed, or null when there is none.</summary>
    public static string? Extract(string completion)
    {
        var matches = AnswerTag().Matches(completion);
        return matches.Count == 0 ? null : matches[^1].Groups[1].Value.Trim();
    }
}
