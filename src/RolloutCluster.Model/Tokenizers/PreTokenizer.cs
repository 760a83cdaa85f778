using System.Globalization;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// Splits normalised text into pieces that BPE encodes independently (tokenizer.json "pre_tokenizer"),
/// as Hugging Face's tokenizers does: patterns match by code point (<see cref="CodePointRegex"/>), and
/// Split keeps, drops or merges its delimiters by behaviour. Supported: Split (every behaviour, invert),
/// ByteLevel (optional GPT-2 regex and prefix space), Digits, Sequence.
/// </summary>
public abstract record PreTokenizer
{
    /// <summary>GPT-2's pre-tokenisation pattern, used by ByteLevel with use_regex.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public abstract IEnumerable<string> Split(string text);

    /// <summary>What Split does with the pieces its pattern matches (Hugging Face's SplitDelimiterBehavior).</summary>
    public enum Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

    /// <summary>A pattern's matches and the text between them, kept, dropped or merged by behaviour; invert swaps which are delimiters.</summary>
    public sealed record RegexSplit(string Pattern, Behavior How = Behavior.Isolated, bool Invert = false) : PreTokenizer
    {
        readonly CodePointRegex _regex = new(Pattern);

        public override IEnumerable<string> Split(string text)
        {
            var segments = new List<(int Start, int End, bool Delimiter)>();
            int at = 0;
            foreach (var (start, length) in _regex.Matches(text))
            {
                if (start > at) segments.Add((at, start, Invert));
                segments.Add((start, start + length, !Invert));
                at = start + length;
            }
            if (at < text.Length) segments.Add((at, text.Length, Invert));
            return Apply(segments).Select(s => text[s.Start..s.End]);
        }

        List<(int Start, int End)> Apply(List<(int Start, int End, bool Delimiter)> segments)
        {
            var pieces = new List<(int Start, int End)>();
            bool previous = false;
            switch (How)
            {
                case Behavior.Removed:
                    pieces.AddRange(segments.Where(s => !s.Delimiter).Select(s => (s.Start, s.End)));
                    break;
                case Behavior.Isolated:
                    pieces.AddRange(segments.Select(s => (s.Start, s.End)));
                    break;
                case Behavior.MergedWithPrevious:
                    foreach (var s in segments)
                    {
                        if (s.Delimiter && !previous && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, s.End);
                        else pieces.Add((s.Start, s.End));
                        previous = s.Delimiter;
                    }
                    break;
                case Behavior.MergedWithNext:
                    for (int i = segments.Count - 1; i >= 0; i--)
                    {
                        var s = segments[i];
                        if (s.Delimiter && !previous && pieces.Count > 0) pieces[^1] = (s.Start, pieces[^1].End);
                        else pieces.Add((s.Start, s.End));
                        previous = s.Delimiter;
                    }
                    pieces.Reverse();
                    break;
                case Behavior.Contiguous:
                    foreach (var s in segments)
                    {
                        if (s.Delimiter == previous && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, s.End);
                        else pieces.Add((s.Start, s.End));
                        previous = s.Delimiter;
                    }
                    break;
            }
            return pieces;
        }
    }

    /// <summary>Byte-level step: optionally a leading space and GPT-2's regex; the byte mapping itself happens in BPE.</summary>
    public sealed record ByteLevel(bool AddPrefixSpace, bool UseRegex) : PreTokenizer
    {
        static readonly RegexSplit Gpt2 = new(Gpt2Pattern);

        public override IEnumerable<string> Split(string text)
        {
            if (AddPrefixSpace && !text.StartsWith(' ')) text = " " + text;
            return UseRegex ? Gpt2.Split(text) : [text];
        }
    }

    /// <summary>Digits: each numeric character alone (individual_digits) or runs of them as pieces; numeric by code point, as Rust's char::is_numeric.</summary>
    public sealed record Digits(bool Individual) : PreTokenizer
    {
        public override IEnumerable<string> Split(string text)
        {
            int start = 0;
            bool? runIsDigit = null;
            for (int i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
            {
                bool digit = IsNumeric(text, i);
                if (runIsDigit is { } run && (digit != run || (digit && Individual)))
                {
                    yield return text[start..i];
                    start = i;
                }
                runIsDigit = digit;
            }
            if (start < text.Length) yield return text[start..];
        }

        static bool IsNumeric(string text, int i) =>
            (char.IsSurrogatePair(text, i) ? CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text, i)) : CharUnicodeInfo.GetUnicodeCategory(text[i]))
            is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
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

    /// <summary>The pieces; patterns match by code point, so no piece ends inside a surrogate pair.</summary>
    public IEnumerable<string> SplitWhole(string text) => Split(text);
}
