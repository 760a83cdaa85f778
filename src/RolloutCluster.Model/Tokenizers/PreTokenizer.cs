using System.Text;
using System.Text.RegularExpressions;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// Splits normalised text into pieces that BPE encodes independently (tokenizer.json "pre_tokenizer").
/// Supported: Split (regex, Isolated), ByteLevel (optional GPT-2 regex and prefix space), Digits, Sequence.
/// </summary>
public abstract record PreTokenizer
{
    /// <summary>GPT-2's pre-tokenisation pattern, used by ByteLevel with use_regex.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public abstract IEnumerable<string> Split(string text);

    /// <summary>Regex split keeping both the matches and the gaps between them as pieces.</summary>
    public sealed record RegexSplit(string Pattern) : PreTokenizer
    {
        readonly Regex _regex = new(Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

        public override IEnumerable<string> Split(string text)
        {
            int at = 0;
            foreach (Match m in _regex.Matches(text))
            {
                if (m.Length == 0) continue;
                if (m.Index > at) yield return text[at..m.Index];
                yield return m.Value;
                at = m.Index + m.Length;
            }
            if (at < text.Length) yield return text[at..];
        }
    }

    /// <summary>Byte-level step: optionally a leading space and GPT-2's regex; the byte mapping itself happens in BPE.</summary>
    public sealed record ByteLevel(bool AddPrefixSpace, bool UseRegex) : PreTokenizer
    {
        static readonly RegexSplit Gpt2 = new(Gpt2Pattern);

        public override IEnumerable<string> Split(string text)
        {
            if (AddPrefixSpace && text.Length > 0 && text[0] != ' ') text = " " + text;
            return UseRegex ? Gpt2.Split(text) : [text];
        }
    }

    /// <summary>Digits: each digit alone (individual_digits) or runs of digits as pieces.</summary>
    public sealed record Digits(bool Individual) : PreTokenizer
    {
        public override IEnumerable<string> Split(string text)
        {
            var piece = new StringBuilder();
            foreach (var c in text)
            {
                bool digit = char.IsDigit(c);
                bool boundary = piece.Length > 0 && (digit != char.IsDigit(piece[^1]) || (digit && Individual));
                if (boundary) { yield return piece.ToString(); piece.Clear(); }
                piece.Append(c);
            }
            if (piece.Length > 0) yield return piece.ToString();
        }
    }

    public sealed record Sequence(IReadOnlyList<PreTokenizer> Steps) : PreTokenizer
    {
        public override IEnumerable<string> Split(string text)
        {
            IEnumerable<string> pieces = [text];
            foreach (var step in Steps) pieces = pieces.SelectMany(step.Split);
            return pieces;
        }
    }

    /// <summary>
    /// Runs the split and re-joins any piece that ends inside a surrogate pair (.NET's \p{L} does not
    /// match astral letters), so no character is ever cut in two and round trips stay exact.
    /// </summary>
    public IEnumerable<string> SplitWhole(string text)
    {
        string? carry = null;
        foreach (var piece in Split(text))
        {
            var p = carry is null ? piece : carry + piece;
            if (char.IsHighSurrogate(p[^1])) { carry = p; continue; }
            carry = null;
            yield return p;
        }
        if (carry is not null) yield return carry;
    }
}
