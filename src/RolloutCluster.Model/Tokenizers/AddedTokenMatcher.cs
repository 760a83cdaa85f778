using System.Globalization;
using System.Text.RegularExpressions;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// Finds added tokens in text as Hugging Face's AddedVocabulary does: leftmost-longest matches,
/// single_word checked against the neighbouring characters, lstrip/rstrip widening the match over
/// whitespace. Text between matches is returned for normalisation and BPE.
/// </summary>
sealed class AddedTokenMatcher
{
    readonly Regex? _pattern;
    readonly Dictionary<string, AddedToken> _byContent;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (var t in tokens) _byContent.TryAdd(t.Content, t);
        // Longest first: at one position the longest token wins, and the scan is leftmost.
        if (_byContent.Count > 0)
            _pattern = new Regex(string.Join("|", _byContent.Keys.OrderByDescending(c => c.Length).ThenBy(c => c, StringComparer.Ordinal).Select(Regex.Escape)),
                RegexOptions.CultureInvariant);
    }

    /// <summary>The text as pieces: (null, text) for ordinary text, (token, matched span) for an added token.</summary>
    public IEnumerable<(AddedToken? Token, string Text)> Split(string text)
    {
        if (_pattern is null || text.Length == 0)
        {
            if (text.Length > 0) yield return (null, text);
            yield break;
        }
        int offset = 0;
        foreach (Match m in _pattern.Matches(text))
        {
            var token = _byContent[m.Value];
            int start = m.Index, stop = m.Index + m.Length;
            if (start < offset) continue;   // inside what an rstrip took
            if (token.SingleWord && ((start > 0 && IsWordChar(text, start - 1, before: true)) || (stop < text.Length && IsWordChar(text, stop, before: false)))) continue;
            if (token.LStrip) while (start > offset && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip) while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (start > offset) yield return (null, text[offset..start]);
            yield return (token, text[start..stop]);
            offset = stop;
        }
        if (offset < text.Length) yield return (null, text[offset..]);
    }

    /// <summary>Rust's char::is_alphanumeric or '_', for the code point ending (before) or starting at index.</summary>
    static bool IsWordChar(string text, int index, bool before)
    {
        int cp = before && index > 0 && char.IsSurrogatePair(text[index - 1], text[index]) ? char.ConvertToUtf32(text[index - 1], text[index])
            : !before && char.IsSurrogatePair(text, index) ? char.ConvertToUtf32(text, index) : text[index];
        if (cp == '_') return true;
        var category = CharUnicodeInfo.GetUnicodeCategory(cp);
        return category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
            or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
    }
}
