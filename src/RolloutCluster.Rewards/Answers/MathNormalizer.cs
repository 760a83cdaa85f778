using System.Text;
using System.Text.RegularExpressions;

namespace RolloutCluster.Rewards.Answers;

/// <summary>
/// Strips what does not change a mathematical answer: math delimiters ($…$, \(…\), \[…\]), \left and
/// \right, spacing commands, \text{}/\mathrm{} wrappers, degree signs, "x =" prefixes, a trailing
/// period; and spells LaTeX variants one way (\dfrac and \tfrac as \frac, \times and × as *).
/// </summary>
public static partial class MathNormalizer
{
    [GeneratedRegex(@"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")]
    private static partial Regex TextWrapper();

    [GeneratedRegex(@"^\s*[a-zA-Z]\w*\s*(?:=|:=)\s*(?!=)")]
    private static partial Regex AssignmentPrefix();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    public static string Normalize(string answer)
    {
        var s = answer.Trim();
        for (int pass = 0; pass < 3; pass++)
        {
            s = s.Trim();
            if (s.Length >= 2 && s[0] == '$' && s[^1] == '$') s = s.Trim('$');
            if (s.StartsWith(@"\(", StringComparison.Ordinal) && s.EndsWith(@"\)", StringComparison.Ordinal)) s = s[2..^2];
            if (s.StartsWith(@"\[", StringComparison.Ordinal) && s.EndsWith(@"\]", StringComparison.Ordinal)) s = s[2..^2];
        }
        var b = new StringBuilder(s)
            .Replace(@"\dfrac", @"\frac").Replace(@"\tfrac", @"\frac")
            .Replace(@"\left", "").Replace(@"\right", "").Replace(@"\displaystyle", "")
            .Replace(@"\!", "").Replace(@"\,", "").Replace(@"\;", "").Replace(@"\:", "").Replace(@"\ ", " ").Replace("~", " ")
            .Replace(@"^\circ", "").Replace(@"^{\circ}", "").Replace("°", "").Replace(@"\circ", "")
            .Replace(@"\%", "%").Replace(@"\$", "$").Replace(@"\times", "*").Replace(@"\cdot", "*").Replace("×", "*").Replace("·", "*")
            .Replace("−", "-").Replace("–", "-").Replace(@"\infty", "inf").Replace("∞", "inf")
            .Replace("\u2009", "").Replace("\u202F", "").Replace("\u00A0", " ");
        s = b.ToString();
        for (int pass = 0; pass < 3 && TextWrapper().IsMatch(s); pass++) s = TextWrapper().Replace(s, "$1");
        s = AssignmentPrefix().Replace(s, "");
        s = Spaces().Replace(s, " ").Trim();
        while (s.EndsWith('.') && !s.EndsWith("..", StringComparison.Ordinal)) s = s[..^1].TrimEnd();
        return s;
    }
}
