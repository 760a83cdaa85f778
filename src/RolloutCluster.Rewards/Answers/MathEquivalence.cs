using System.Globalization;
using System.Text.RegularExpressions;

namespace RolloutCluster.Rewards.Answers;

/// <summary>
/// Decides whether a predicted final answer equals a reference one, by rules: exact rational
/// comparison of numbers written as integers, decimals (thousands separators allowed), fractions,
/// \frac, mixed numbers, scientific notation, percentages, with currency signs and unit words
/// ignored; element-wise comparison of tuples and intervals (bracket kinds must agree); and
/// case-insensitive comparison of anything else. A decimal with two or more places also matches a
/// reference it rounds from. Returns null when the rules cannot decide (e.g. \sqrt{2} against 1.414).
/// </summary>
public static partial class MathEquivalence
{
    public static bool? Equivalent(string prediction, string reference)
    {
        var p = Parse(MathNormalizer.Normalize(prediction));
        var r = Parse(MathNormalizer.Normalize(reference));
        return Compare(p, r);
    }

    abstract record Value;
    sealed record Number(Rational Exact, bool Percent, int Decimals) : Value;
    sealed record Bracketed(char Open, char Close, IReadOnlyList<Value> Items) : Value;
    sealed record Text(string Content) : Value;
    sealed record Undecidable(string Content) : Value;

    static bool? Compare(Value p, Value r) => (p, r) switch
    {
        (Number a, Number b) => NumbersMatch(a, b),
        (Bracketed a, Bracketed b) => a.Items.Count != b.Items.Count || a.Open != b.Open || a.Close != b.Close ? false
            : a.Items.Zip(b.Items, Compare).Aggregate((bool?)true, (acc, x) => acc == false || x == false ? false : acc is null || x is null ? null : true),
        (Text a, Text b) => string.Equals(a.Content, b.Content, StringComparison.OrdinalIgnoreCase),
        (Undecidable a, Undecidable b) => string.Equals(a.Content, b.Content, StringComparison.OrdinalIgnoreCase) ? true : null,
        (Undecidable, _) or (_, Undecidable) => null,
        _ => false,
    };

    static bool NumbersMatch(Number p, Number r)
    {
        // 5% matches 5 and 0.05; so does 5 against 5%, but 0.05 against 5 does not.
        var candidates = new List<(Rational P, Rational R)> { (p.Exact, r.Exact) };
        if (p.Percent && !r.Percent) candidates.Add((p.Exact / Rational.Of(100), r.Exact));
        if (r.Percent && !p.Percent) candidates.Add((p.Exact, r.Exact / Rational.Of(100)));
        return candidates.Any(c => c.P == c.R || RoundsTo(c.P, p.Decimals, c.R));
    }

    /// <summary>A prediction written with k ≥ 2 decimals matches a reference that rounds to it at k places.</summary>
    static bool RoundsTo(Rational prediction, int decimals, Rational reference)
    {
        if (decimals < 2) return false;
        var difference = prediction + -reference;
        var half = new Rational(1, 2) * Rational.PowerOfTen(-decimals);
        return System.Numerics.BigInteger.Abs(difference.Numerator) * half.Denominator <= half.Numerator * difference.Denominator;
    }

    [GeneratedRegex(@"^(?<sign>[+-]?)\s*(?:\$|€|£|US\$|USD|Rs\.?)\s*", RegexOptions.IgnoreCase)]
    private static partial Regex CurrencyPrefix();

    [GeneratedRegex(@"\s*(?:%|percent|per\s+cent)$", RegexOptions.IgnoreCase)]
    private static partial Regex PercentSuffix();

    [GeneratedRegex(@"^(?<number>.*?[\d}])\s+(?:[a-zA-Z][a-zA-Z/.\-]*(?:\^?[0-9²³])?\s*)+$")]
    private static partial Regex TrailingWords();

    [GeneratedRegex(@"^[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?$")]
    private static partial Regex SpaceGrouped();

    [GeneratedRegex(@"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$")]
    private static partial Regex DecimalLiteral();

    [GeneratedRegex(@"^(?<mant>[+-]?[\d.]+)\s*\*\s*10\s*\^\s*\{?\s*(?<exp>[+-]?\d+)\s*\}?$")]
    private static partial Regex TimesTenTo();

    [GeneratedRegex(@"^(?<sign>-)?10\s*\^\s*\{?\s*(?<exp>[+-]?\d+)\s*\}?$")]
    private static partial Regex TenTo();

    [GeneratedRegex(@"^(?<sign>-)?\\frac\s*\{(?<n>[^{}]+)\}\s*\{(?<d>[^{}]+)\}$")]
    private static partial Regex Frac();

    [GeneratedRegex(@"^(?<sign>-)?\\frac\s*(?<n>\d)(?<d>\d)$")]
    private static partial Regex ShortFrac();

    [GeneratedRegex(@"^(?<whole>-?\d+)\s*(?:\s|\\frac|(?=\\frac))\s*\{?(?<n>\d+)\}?\s*(?:/|\}\s*\{)\s*(?<d>\d+)\}?$")]
    private static partial Regex MixedNumber();

    static Value Parse(string s)
    {
        if (s.Length >= 2 && s[0] is '(' or '[' && s[^1] is ')' or ']' && TopLevelCommas(s[1..^1]) is { Count: > 1 } parts)
            return new Bracketed(s[0], s[^1], parts.Select(x => Parse(x.Trim())).ToList());
        if (s.Length >= 2 && s[0] == '{' && s[^1] == '}') return Parse(s[1..^1].Trim());
        if (ParseNumber(s) is { } number) return number;
        if (TopLevelCommas(s) is { Count: > 1 } bare) return new Bracketed('(', ')', bare.Select(x => Parse(x.Trim())).ToList());
        if (s.Contains('\\') || s.Contains('^') || s.Contains("sqrt", StringComparison.OrdinalIgnoreCase) || s.Contains('π')) return new Undecidable(s.Replace(" ", ""));
        return new Text(s);
    }

    static Number? ParseNumber(string text)
    {
        var s = CurrencyPrefix().Replace(text.Trim(), "${sign}");
        bool percent = PercentSuffix().IsMatch(s);
        if (percent) s = PercentSuffix().Replace(s, "");
        if (ParseExact(s, out int decimals) is { } exact) return new Number(exact, percent, decimals);
        // "12 apples", "60 km/h", "5 m^2": a number followed only by unit words.
        if (TrailingWords().Match(s) is { Success: true } m)
        {
            var number = CurrencyPrefix().Replace(m.Groups["number"].Value, "${sign}");
            if (ParseExact(number, out decimals) is { } value) return new Number(value, percent, decimals);
        }
        return null;
    }

    static Rational? ParseExact(string s, out int decimals)
    {
        decimals = -1;
        s = s.Trim();
        // Spaces group thousands ("1 000") but never join other digits ("4 2" is not 42).
        var compact = SpaceGrouped().IsMatch(s) ? s.Replace(" ", "") : s;
        if (DecimalLiteral().IsMatch(compact) && compact.Any(char.IsAsciiDigit))
        {
            var plain = compact.Replace(",", "");
            int dot = plain.IndexOf('.'), e = plain.IndexOfAny(['e', 'E']);
            if (dot >= 0 && e < 0) decimals = plain.Length - dot - 1;
            return Rational.ParseDecimal(plain);
        }
        if (TimesTenTo().Match(s) is { Success: true } sci && Rational.ParseDecimal(sci.Groups["mant"].Value) is { } mantissa)
            return mantissa * Rational.PowerOfTen(int.Parse(sci.Groups["exp"].Value, CultureInfo.InvariantCulture));
        if (TenTo().Match(s) is { Success: true } ten)
        {
            var power = Rational.PowerOfTen(int.Parse(ten.Groups["exp"].Value, CultureInfo.InvariantCulture));
            return ten.Groups["sign"].Success ? -power : power;
        }
        if (MixedNumber().Match(s) is { Success: true } mixed)
        {
            var whole = Rational.ParseDecimal(mixed.Groups["whole"].Value)!.Value;
            var part = new Rational(System.Numerics.BigInteger.Parse(mixed.Groups["n"].Value, CultureInfo.InvariantCulture), System.Numerics.BigInteger.Parse(mixed.Groups["d"].Value, CultureInfo.InvariantCulture));
            if (part.Denominator.IsZero) return null;
            return whole.Numerator.Sign < 0 || mixed.Groups["whole"].Value.StartsWith('-') ? whole + -part : whole + part;
        }
        foreach (var frac in new[] { Frac().Match(s), ShortFrac().Match(s) })
        {
            if (!frac.Success) continue;
            var n = ParseExact(frac.Groups["n"].Value, out _);
            var d = ParseExact(frac.Groups["d"].Value, out _);
            if (n is null || d is null || d.Value.Numerator.IsZero) return null;
            var q = n.Value / d.Value;
            return frac.Groups["sign"].Success ? -q : q;
        }
        int slash = s.IndexOf('/');
        if (slash > 0 && slash == s.LastIndexOf('/'))
        {
            var n = ParseExact(s[..slash], out _);
            var d = ParseExact(s[(slash + 1)..], out _);
            if (n is null || d is null || d.Value.Numerator.IsZero) return null;
            return n.Value / d.Value;
        }
        return null;
    }

    /// <summary>Splits at commas outside brackets and braces; thousands separators are not commas here (callers check).</summary>
    static List<string> TopLevelCommas(string s)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is '(' or '[' or '{') depth++;
            else if (s[i] is ')' or ']' or '}') depth--;
            else if (s[i] == ',' && depth == 0)
            {
                parts.Add(s[start..i]);
                start = i + 1;
            }
        }
        parts.Add(s[start..]);
        return parts;
    }
}
