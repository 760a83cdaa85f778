using RolloutCluster.Rewards.Answers;

namespace RolloutCluster.Tests.Rewards;

/// <summary>The equivalence rules on a table of (prediction, reference, expected) cases, traps included.</summary>
public sealed class MathEquivalenceTests
{
    public static readonly TheoryData<string, string, bool> Cases = new()
    {
        // Integers, signs, whitespace.
        { "42", "42", true }, { " 42 ", "42", true }, { "+42", "42", true }, { "-42", "-42", true }, { "-42", "42", false },
        { "42", "-42", false }, { "042", "42", true }, { "0", "-0", true }, { "41", "42", false }, { "4 2", "42", false },
        { "1000000", "1000000", true }, { "99999999999999999999", "99999999999999999999", true }, { "99999999999999999999", "99999999999999999998", false },
        { "−7", "-7", true }, { "7", "−7", false },
        // Thousands separators (groups of exactly three digits).
        { "1,234", "1234", true }, { "1,234,567", "1234567", true }, { "1234567", "1,234,567", true }, { "-1,000", "-1000", true },
        { "1,234.5", "1234.5", true }, { "12,34", "1234", false }, { "1,23", "123", false }, { "1,2345", "12345", false },
        { "10,000", "10000", true }, { "1\\,000", "1000", true }, { "1 000", "1000", true },
        // Decimals and trailing zeros.
        { "5.0", "5", true }, { "5.00", "5", true }, { "5", "5.0", true }, { ".5", "0.5", true }, { "0.50", "0.5", true },
        { "5.01", "5", false }, { "5", "5.01", false }, { "3.14", "3.14", true }, { "3.140", "3.14", true }, { "3.15", "3.14", false },
        { "-0.25", "-0.25", true }, { "-0.25", "0.25", false }, { "2.5", "2.50", true }, { "100.0", "100", true },
        // Decimal tolerance: a prediction with two or more places matches a reference it rounds from.
        { "0.33", "1/3", true }, { "0.333", "1/3", true }, { "0.67", "2/3", true }, { "0.66", "2/3", false }, { "0.3", "1/3", false },
        { "3.14", "3.14159", true }, { "3.1416", "3.14159", true }, { "3.15", "3.14159", false }, { "1.41", "1.414", true }, { "1.42", "1.414", false },
        { "33.33", "100/3", true }, { "33.3", "100/3", false },
        // Currency and percent.
        { "$5", "5", true }, { "\\$5", "5", true }, { "$5.00", "5", true }, { "5 dollars", "5", true }, { "$1,234.50", "1234.5", true },
        { "€20", "20", true }, { "-$3", "-3", true }, { "$5", "6", false },
        { "50%", "50", true }, { "50\\%", "50", true }, { "50 percent", "50", true }, { "50%", "0.5", true }, { "0.5", "50%", true },
        { "5%", "0.05", true }, { "5", "5%", true }, { "0.05", "5", false }, { "50%", "5", false }, { "12.5%", "0.125", true },
        // Units and words after the number.
        { "12 apples", "12", true }, { "12 cm", "12", true }, { "3 hours", "3", true }, { "60 km/h", "60", true }, { "5 m^2", "5", true },
        { "12 apples", "13", false }, { "7 people.", "7", true }, { "18 square feet", "18", true },
        // Fractions, \frac, \dfrac and mixed numbers.
        { "1/2", "0.5", true }, { "0.5", "1/2", true }, { "2/4", "1/2", true }, { "3/4", "0.75", true }, { "3/4", "0.7", false },
        { "\\frac{1}{2}", "0.5", true }, { "\\dfrac{3}{4}", "3/4", true }, { "\\tfrac{3}{4}", "0.75", true }, { "\\frac12", "1/2", true },
        { "-\\frac{1}{2}", "-0.5", true }, { "\\frac{-1}{2}", "-1/2", true }, { "\\frac{1}{2}", "-1/2", false }, { "\\frac{2}{3}", "\\frac{4}{6}", true },
        { "1 1/2", "1.5", true }, { "1 1/2", "3/2", true }, { "11/2", "1 1/2", false }, { "11/2", "5.5", true }, { "2\\frac{1}{4}", "2.25", true },
        { "2 \\frac{1}{4}", "9/4", true }, { "-1 1/2", "-1.5", true }, { "1/0", "1", false }, { "7/7", "1", true }, { "22/7", "3.14", false },
        // Scientific notation and powers of ten.
        { "1e3", "1000", true }, { "1E3", "1000", true }, { "1.5e3", "1500", true }, { "2.5e-3", "0.0025", true }, { "1.5 \\times 10^{3}", "1500", true },
        { "1.5*10^3", "1500", true }, { "1.5×10^3", "1500", true }, { "10^3", "1000", true }, { "10^{-2}", "0.01", true }, { "1e3", "100", false },
        { "6.02 \\times 10^{23}", "602000000000000000000000", true },
        // LaTeX wrappers.
        { "$42$", "42", true }, { "\\(42\\)", "42", true }, { "\\[42\\]", "42", true }, { "\\text{42}", "42", true }, { "\\mathrm{42}", "42", true },
        { "$\\frac{1}{2}$", "1/2", true }, { "\\left(1, 2\\right)", "(1,2)", true }, { "{42}", "42", true }, { "90^\\circ", "90", true },
        { "90°", "90", true }, { "\\text{5 apples}", "5", true }, { "x = 5", "5", true }, { "x=5", "5", true }, { "y = -3", "-3", true }, { "5.", "5", true },
        // Tuples and intervals.
        { "(1, 2)", "(1,2)", true }, { "(1,2)", "(2,1)", false }, { "(1, 2, 3)", "(1,2)", false }, { "[1, 2]", "[1,2]", true }, { "[1, 2]", "(1, 2)", false },
        { "[1, 2)", "[1,2)", true }, { "(0.5, 1/2)", "(1/2, 0.5)", true }, { "(-1, \\frac{3}{2})", "(-1, 1.5)", true }, { "1, 2", "(1, 2)", true },
        { "(1,234, 5)", "(1234, 5)", false }, { "(-inf, 0)", "(-\\infty, 0)", true }, { "(3, 4)", "(3, 5)", false },
        // Text answers.
        { "A", "A", true }, { "a", "A", true }, { "B", "A", false }, { "yes", "Yes", true }, { "no", "yes", false }, { "\\text{Monday}", "Monday", true },
        { "Monday", "Tuesday", false }, { "", "5", false }, { "five", "5", false },
        // Traps: numbers inside words, wrong magnitude, swapped sign, prefixes.
        { "10", "100", false }, { "0.1", "1", false }, { "1", "0.1", false }, { "5/2", "2/5", false }, { "-5/2", "5/2", false },
        { "2,5", "2.5", false }, { "1,000.5", "1000.5", true }, { "12%", "12.5%", false }, { "$12", "$13", false }, { "1.0e1", "10", true },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Equivalence_follows_the_rules(string prediction, string reference, bool expected) =>
        Assert.Equal(expected, MathEquivalence.Equivalent(prediction, reference));

    [Fact]
    public void The_table_is_large_and_balanced()
    {
        Assert.True(Cases.Count() >= 150, $"{Cases.Count()} cases");
        Assert.True(Cases.Count(c => !(bool)c[2]) >= 40);
    }

    [Theory]
    [InlineData("\\sqrt{2}", "1.414")]
    [InlineData("2\\pi", "6.283")]
    [InlineData("\\sqrt{2}", "\\sqrt{3}")]
    public void What_the_rules_cannot_decide_is_left_to_a_judge(string prediction, string reference) =>
        Assert.Null(MathEquivalence.Equivalent(prediction, reference));

    [Fact]
    public void Identical_latex_that_cannot_be_evaluated_is_still_equal() =>
        Assert.True(MathEquivalence.Equivalent("\\sqrt{2}", "\\sqrt{2}"));
}
