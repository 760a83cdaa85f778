using System.Globalization;
using System.Numerics;

namespace RolloutCluster.Rewards.Answers;

/// <summary>An exact fraction, so that "0.5", "1/2" and "\frac{2}{4}" compare equal without rounding.</summary>
public readonly record struct Rational
{
    public Rational(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero) throw new DivideByZeroException();
        if (denominator.Sign < 0) (numerator, denominator) = (-numerator, -denominator);
        var gcd = BigInteger.GreatestCommonDivisor(BigInteger.Abs(numerator), denominator);
        if (!gcd.IsZero && !gcd.IsOne) (numerator, denominator) = (numerator / gcd, denominator / gcd);
        Numerator = numerator;
        Denominator = denominator;
    }

    public BigInteger Numerator { get; }
    public BigInteger Denominator { get; }

    public static Rational Of(BigInteger n) => new(n, BigInteger.One);

    public static Rational operator +(Rational a, Rational b) => new(a.Numerator * b.Denominator + b.Numerator * a.Denominator, a.Denominator * b.Denominator);
    public static Rational operator -(Rational a) => new(-a.Numerator, a.Denominator);
    public static Rational operator *(Rational a, Rational b) => new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);
    public static Rational operator /(Rational a, Rational b) => new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

    /// <summary>10^exponent, exactly.</summary>
    public static Rational PowerOfTen(int exponent) => exponent >= 0
        ? Of(BigInteger.Pow(10, exponent))
        : new Rational(BigInteger.One, BigInteger.Pow(10, -exponent));

    /// <summary>Parses "-12", "3.25", ".5", "1e-3"; null for anything else.</summary>
    public static Rational? ParseDecimal(string text)
    {
        var s = text.Trim();
        int exponent = 0;
        int e = s.IndexOfAny(['e', 'E']);
        if (e > 0)
        {
            if (!int.TryParse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent) || Math.Abs(exponent) > 400) return null;
            s = s[..e];
        }
        bool negative = s.StartsWith('-');
        if (negative || s.StartsWith('+')) s = s[1..];
        int dot = s.IndexOf('.');
        string whole = dot < 0 ? s : s[..dot], fraction = dot < 0 ? "" : s[(dot + 1)..];
        if (whole.Length + fraction.Length == 0 || !whole.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit)) return null;
        var digits = BigInteger.Parse("0" + whole + fraction, CultureInfo.InvariantCulture);
        var value = new Rational(negative ? -digits : digits, BigInteger.Pow(10, fraction.Length)) * PowerOfTen(exponent);
        return value;
    }

    public double ToDouble() => (double)Numerator / (double)Denominator;

    public override string ToString() => Denominator.IsOne ? Numerator.ToString(CultureInfo.InvariantCulture) : $"{Numerator}/{Denominator}";
}
