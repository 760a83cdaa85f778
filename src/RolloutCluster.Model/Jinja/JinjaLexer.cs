using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RolloutCluster.Model.Jinja;

/// <summary>A template error, naming the template line where it happened.</summary>
public sealed class JinjaException(string message) : Exception(message);

enum TokenKind { Text, Output, Statement, Name, String, Integer, Float, Operator, End }

/// <summary>One token: its kind, text (or value) and the template line it starts on.</summary>
readonly record struct Token(TokenKind Kind, string Value, int Line);

/// <summary>
/// Splits a template into text and tag tokens the way Hugging Face chat templates are compiled: a
/// single trailing newline dropped, lstrip_blocks and trim_blocks on, "-" trimming whitespace beside a
/// tag, comments removed; inside tags, names, literals and operators.
/// </summary>
static partial class JinjaLexer
{
    [GeneratedRegex(@"{%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)", RegexOptions.Singleline)]
    private static partial Regex Generation();

    static readonly string[] Operators = ["==", "!=", "<=", ">=", "//", "**", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];

    /// <summary>
    /// The template as Hugging Face preprocesses it before lexing: a trailing newline dropped and
    /// generation marks removed. lstrip_blocks and trim_blocks happen while lexing, so line numbers
    /// stay those of the template as written.
    /// </summary>
    static string Preprocess(string template)
    {
        if (template.EndsWith('\n')) template = template[..^1];
        // {% generation %} marks (assistant masks in some templates) render as nothing.
        var result = new StringBuilder();
        int last = 0;
        foreach (Match m in Generation().Matches(template))
        {
            int end = m.Index;
            if (m.Groups[1].Length > 0) while (end > last && char.IsWhiteSpace(template[end - 1])) end--;
            result.Append(template, last, end - last).Append(m.Groups[2].Length > 0 ? "" : m.Groups[3].Value);
            last = m.Index + m.Length;
        }
        return result.Append(template, last, template.Length - last).ToString();
    }

    public static List<Token> Tokenize(string template)
    {
        var src = Preprocess(template);
        var tokens = new List<Token>();
        int i = 0, line = 1;
        bool trimNext = false;
        while (i < src.Length)
        {
            int open = FindOpen(src, i);
            var text = src[i..(open < 0 ? src.Length : open)];
            if (trimNext) text = text.TrimStart();
            trimNext = false;
            if (open >= 0 && open + 2 < src.Length && src[open + 2] == '-') text = text.TrimEnd();
            else if (open >= 0 && src[open + 1] is '%' or '#') text = LstripBlock(text, i == 0 || src[i - 1] == '\n');
            if (text.Length > 0) tokens.Add(new Token(TokenKind.Text, text, line));
            line += Count(src, i, open < 0 ? src.Length : open);
            if (open < 0) break;
            char kind = src[open + 1];
            int start = open + 2 + (open + 2 < src.Length && src[open + 2] == '-' ? 1 : 0);
            if (kind == '#')
            {
                int close = src.IndexOf("#}", start, StringComparison.Ordinal);
                if (close < 0) throw new JinjaException($"template line {line}: comment is not closed");
                trimNext = src[close - 1] == '-';
                line += Count(src, open, close + 2);
                i = TrimBlock(src, close + 2, ref line);
                continue;
            }
            tokens.Add(new Token(kind == '{' ? TokenKind.Output : TokenKind.Statement, "", line));
            i = LexTag(src, start, kind == '{' ? '}' : '%', tokens, ref line, out trimNext);
            if (kind == '%') i = TrimBlock(src, i, ref line);
        }
        tokens.Add(new Token(TokenKind.End, "", line));
        return tokens;
    }

    /// <summary>lstrip_blocks: spaces and tabs between a line's start and a block or comment tag are dropped.</summary>
    static string LstripBlock(string text, bool startsLine)
    {
        int end = text.Length;
        while (end > 0 && text[end - 1] is ' ' or '\t') end--;
        bool atLineStart = end == 0 ? startsLine : text[end - 1] == '\n';
        return atLineStart ? text[..end] : text;
    }

    /// <summary>trim_blocks: the first newline after a block or comment tag is dropped (its line still counted).</summary>
    static int TrimBlock(string src, int i, ref int line)
    {
        if (i < src.Length && src[i] == '\n')
        {
            line++;
            return i + 1;
        }
        return i;
    }

    static int FindOpen(string src, int from)
    {
        for (int i = src.IndexOf('{', from); i >= 0 && i + 1 < src.Length; i = src.IndexOf('{', i + 1))
            if (src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    static int Count(string src, int from, int to)
    {
        int n = 0;
        for (int i = from; i < to; i++) if (src[i] == '\n') n++;
        return n;
    }

    /// <summary>Tokens inside a tag up to its closing "}}" or "%}"; returns the index after it.</summary>
    static int LexTag(string src, int i, char closer, List<Token> tokens, ref int line, out bool trimNext)
    {
        int depth = 0;
        while (true)
        {
            while (i < src.Length && char.IsWhiteSpace(src[i])) { if (src[i] == '\n') line++; i++; }
            if (i >= src.Length) throw new JinjaException($"template line {line}: tag is not closed (expected '{closer}}}')");
            if (depth == 0 && src[i] == '-' && i + 2 < src.Length && src[i + 1] == closer && src[i + 2] == '}')
            {
                trimNext = true;
                return i + 3;
            }
            if (depth == 0 && src[i] == closer && i + 1 < src.Length && src[i + 1] == '}')
            {
                trimNext = false;
                return i + 2;
            }
            char c = src[i];
            if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < src.Length && (char.IsLetterOrDigit(src[i]) || src[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Name, src[start..i], line));
            }
            else if (char.IsAsciiDigit(c))
            {
                int start = i;
                while (i < src.Length && (char.IsAsciiDigit(src[i]) || src[i] == '_')) i++;
                bool isFloat = i + 1 < src.Length && src[i] == '.' && char.IsAsciiDigit(src[i + 1]);
                if (isFloat) { i++; while (i < src.Length && char.IsAsciiDigit(src[i])) i++; }
                tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, src[start..i].Replace("_", ""), line));
            }
            else if (c is '\'' or '"')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= src.Length) throw new JinjaException($"template line {line}: string is not closed");
                    if (src[i] == c) { i++; break; }
                    if (src[i] == '\\' && i + 1 < src.Length)
                    {
                        char e = src[i + 1];
                        value.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', 'v' => '\v', '0' => '\0', _ => e });
                        if (e is not ('n' or 't' or 'r' or 'b' or 'f' or 'v' or '0' or '\'' or '"' or '\\')) value.Insert(value.Length - 1, '\\');
                        i += 2;
                        continue;
                    }
                    if (src[i] == '\n') line++;
                    value.Append(src[i++]);
                }
                tokens.Add(new Token(TokenKind.String, value.ToString(), line));
            }
            else
            {
                var op = Operators.FirstOrDefault(o => string.CompareOrdinal(src, i, o, 0, o.Length) == 0)
                    ?? throw new JinjaException($"template line {line}: unexpected character '{c}'");
                if (op is "(" or "[" or "{") depth++;
                if (op is ")" or "]" or "}") depth--;
                tokens.Add(new Token(TokenKind.Operator, op, line));
                i += op.Length;
            }
        }
    }
}
