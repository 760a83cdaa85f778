using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// A regular expression evaluated over code points, as Hugging Face's Rust tokenizers (the regex and
/// onig crates) evaluate pre-tokenizer patterns. .NET's regex works on UTF-16 units, so a character
/// outside the Basic Multilingual Plane (emoji, CJK extension B, mathematical letters) is two
/// surrogates that never match \p{L}, \p{S} or \p{N}. Here every such character is replaced, for
/// matching only, by one BMP stand-in of the same Unicode general category, chosen from blocks no
/// tokenizer pattern names, and matches are mapped back to the original text: a pattern then sees
/// one character of the right category per code point.
/// </summary>
public sealed class CodePointRegex
{
    readonly Regex _regex;

    /// <summary>Compiles the pattern; an invalid one throws <see cref="ArgumentException"/> with .NET's reason.</summary>
    public CodePointRegex(string pattern)
    {
        Pattern = pattern;
        _regex = new Regex(pattern, RegexOptions.CultureInvariant);
    }

    public string Pattern { get; }

    /// <summary>Non-empty matches as (start, length) in the original text's UTF-16 indices; never inside a surrogate pair.</summary>
    public IEnumerable<(int Start, int Length)> Matches(string text)
    {
        if (!HasPairs(text))
        {
            foreach (Match m in _regex.Matches(text))
                if (m.Length > 0) yield return (m.Index, m.Length);
            yield break;
        }
        var (mapped, starts) = StandIns(text);
        foreach (Match m in _regex.Matches(mapped))
            if (m.Length > 0) yield return (starts[m.Index], starts[m.Index + m.Length] - starts[m.Index]);
    }

    static bool HasPairs(string text)
    {
        foreach (var c in text)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>The text with each surrogate pair replaced by its stand-in, and each mapped index's start in the original (plus the end).</summary>
    static (string Mapped, int[] Starts) StandIns(string text)
    {
        var mapped = new StringBuilder(text.Length);
        var starts = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            starts.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                mapped.Append(StandIn[(int)CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))]);
                i++;
            }
            else mapped.Append(text[i]);
        }
        starts.Add(text.Length);
        return (mapped.ToString(), starts.ToArray());
    }

    /// <summary>
    /// One BMP character per general category, from blocks tokenizer patterns do not name (Vai, Yi,
    /// Cyrillic Extended-B, Supplemental Punctuation, …); each is checked to have its category.
    /// </summary>
    static readonly char[] StandIn = BuildStandIns();

    static char[] BuildStandIns()
    {
        var candidates = new Dictionary<UnicodeCategory, char>
        {
            [UnicodeCategory.UppercaseLetter] = '\uA640', [UnicodeCategory.LowercaseLetter] = '\uA641', [UnicodeCategory.TitlecaseLetter] = '\u01C5',
            [UnicodeCategory.ModifierLetter] = '\uA717', [UnicodeCategory.OtherLetter] = '\uA000', [UnicodeCategory.NonSpacingMark] = '\u1DC0',
            [UnicodeCategory.SpacingCombiningMark] = '\uA823', [UnicodeCategory.EnclosingMark] = '\u20DD', [UnicodeCategory.DecimalDigitNumber] = '\uA620',
            [UnicodeCategory.LetterNumber] = '\u2160', [UnicodeCategory.OtherNumber] = '\u2460', [UnicodeCategory.SpaceSeparator] = '\u2007',
            [UnicodeCategory.LineSeparator] = '\u2028', [UnicodeCategory.ParagraphSeparator] = '\u2029', [UnicodeCategory.Control] = '\u0085',
            [UnicodeCategory.Format] = '\u2061', [UnicodeCategory.Surrogate] = '\uD800', [UnicodeCategory.PrivateUse] = '\uE000',
            [UnicodeCategory.ConnectorPunctuation] = '\uFE4D', [UnicodeCategory.DashPunctuation] = '\u2E1A', [UnicodeCategory.OpenPunctuation] = '\u2E28',
            [UnicodeCategory.ClosePunctuation] = '\u2E29', [UnicodeCategory.InitialQuotePunctuation] = '\u2E02', [UnicodeCategory.FinalQuotePunctuation] = '\u2E03',
            [UnicodeCategory.OtherPunctuation] = '\uA60D', [UnicodeCategory.MathSymbol] = '\u2A00', [UnicodeCategory.CurrencySymbol] = '\u20B0',
            [UnicodeCategory.ModifierSymbol] = '\uA700', [UnicodeCategory.OtherSymbol] = '\u4DC0', [UnicodeCategory.OtherNotAssigned] = '\u0378',
        };
        var table = new char[30];
        foreach (var (category, c) in candidates)
        {
            if (category != UnicodeCategory.Surrogate && CharUnicodeInfo.GetUnicodeCategory(c) != category)
                throw new InvalidOperationException($"stand-in U+{(int)c:X4} is {CharUnicodeInfo.GetUnicodeCategory(c)}, not {category}");
            table[(int)category] = c;
        }
        return table;
    }
}
