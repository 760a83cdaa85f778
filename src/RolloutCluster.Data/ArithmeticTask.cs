using System.Globalization;
using System.Text;

namespace RolloutCluster.Data;

/// <summary>Ranges of the built-in arithmetic task; the example job uses the defaults.</summary>
/// <param name="MaxOperand">Operands of + and - and the left factor of * lie in [0, MaxOperand] (at most 999 999).</param>
/// <param name="MaxFactor">The right factor of * lies in [0, MaxFactor] (a single digit: at most 9).</param>
/// <param name="Operators">Which of '+', '-', '*' appear, equally often.</param>
public sealed record ArithmeticSettings(int MaxOperand = 999, int MaxFactor = 9, string Operators = "+-*")
{
    /// <summary>Returns what is wrong, naming the setting, or null.</summary>
    public string? Validate() =>
        MaxOperand is < 1 or > 999_999 ? $"max_operand must be in [1, 999999], found {MaxOperand}"
        : MaxFactor is < 1 or > 9 ? $"max_factor must be in [1, 9], found {MaxFactor}"
        : Operators.Length == 0 || Operators.Any(c => c is not ('+' or '-' or '*')) || Operators.Distinct().Count() != Operators.Length
            ? $"operators must be distinct characters from \"+-*\", found \"{Operators}\""
        : null;
}

/// <summary>
/// The built-in task: "Compute: 37 + 485" (+ and - on [0, 999]; * of [0, 999] by one digit), answered
/// with the integer. Test and train splits come from separate seeded streams, and train never yields
/// a problem of the test set. Worked solutions go digit by digit, least significant first, with
/// explicit carries and borrows, which is the order a small model can learn (PLATFORM.md).
/// </summary>
public sealed class ArithmeticTask
{
    readonly ArithmeticSettings _settings;
    readonly long _seed;
    readonly HashSet<(char, int, int)> _test;
    readonly int _digits;

    public ArithmeticTask(ArithmeticSettings settings, long seed, int testSize)
    {
        if (settings.Validate() is { } problem) throw new ArgumentException(problem);
        _settings = settings;
        _seed = seed;
        _digits = settings.MaxOperand.ToString(CultureInfo.InvariantCulture).Length;
        var random = new Random(StableSeed.Of(seed, "arithmetic-test"));
        var test = new List<(char, int, int)>();
        _test = [];
        while (test.Count < testSize)
        {
            var p = Draw(random);
            if (_test.Add(p)) test.Add(p);
        }
        TestSet = test.Select((p, i) => Make(p, $"arithmetic-test-{i}")).ToList();
    }

    /// <summary>The held-out problems, in a fixed order.</summary>
    public IReadOnlyList<Problem> TestSet { get; }

    /// <summary>An endless stream of training problems (never in the test set), reproducible from the seed and the stream index.</summary>
    public IEnumerable<Problem> Train(int stream = 0)
    {
        var random = new Random(StableSeed.Of(_seed, "arithmetic-train", stream));
        for (long i = 0; ; i++)
        {
            var p = Draw(random);
            if (!_test.Contains(p)) yield return Make(p, $"arithmetic-train-{stream}-{i}");
        }
    }

    (char, int, int) Draw(Random random)
    {
        char op = _settings.Operators[random.Next(_settings.Operators.Length)];
        int a = random.Next(_settings.MaxOperand + 1);
        int b = op == '*' ? random.Next(_settings.MaxFactor + 1) : random.Next(_settings.MaxOperand + 1);
        return (op, a, b);
    }

    Problem Make((char Op, int A, int B) p, string id)
    {
        long result = p.Op switch { '+' => (long)p.A + p.B, '-' => (long)p.A - p.B, _ => (long)p.A * p.B };
        var answer = result.ToString(CultureInfo.InvariantCulture);
        return new Problem(id, $"Compute: {p.A} {p.Op} {p.B}", answer, Reasoning(p.Op, p.A, p.B, _digits));
    }

    /// <summary>
    /// The worked solution, e.g. for 37 + 485: "037+485:7+5+0=12,3+8+1=12,0+4+1=05" (digit + digit + carry
    /// = two-digit sum, whose first digit is the next carry); for 37 - 485:
    /// "037-485=-(485-037):15-7-0=8,08-3-1=4,04-0-0=4" (top digit plus 10 when borrowing - digit - borrow);
    /// for 417 * 6: "417*6:7*6+0=42,1*6+4=10,4*6+1=25". The answer reads the written digits back, most
    /// significant first.
    /// </summary>
    public static string Reasoning(char op, int a, int b, int digits = 3)
    {
        string Pad(int x) => x.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
        var text = new StringBuilder();
        switch (op)
        {
            case '+':
                text.Append(Pad(a)).Append('+').Append(Pad(b)).Append(':');
                AddSteps(text, Pad(a), Pad(b));
                break;
            case '-':
                text.Append(Pad(a)).Append('-').Append(Pad(b));
                var (top, bottom) = a >= b ? (a, b) : (b, a);
                if (a < b) text.Append("=-(").Append(Pad(top)).Append('-').Append(Pad(bottom)).Append(')');
                text.Append(':');
                SubtractSteps(text, Pad(top), Pad(bottom));
                break;
            case '*':
                text.Append(Pad(a)).Append('*').Append(b).Append(':');
                MultiplySteps(text, Pad(a), b);
                break;
            default:
                throw new ArgumentException($"unknown operator '{op}'");
        }
        return text.ToString();
    }

    static void AddSteps(StringBuilder text, string a, string b)
    {
        int carry = 0;
        for (int i = a.Length - 1; i >= 0; i--)
        {
            int x = a[i] - '0', y = b[i] - '0', sum = x + y + carry;
            text.Append(x).Append('+').Append(y).Append('+').Append(carry).Append('=').Append(sum.ToString("00", CultureInfo.InvariantCulture));
            if (i > 0) text.Append(',');
            carry = sum / 10;
        }
    }

    static void SubtractSteps(StringBuilder text, string a, string b)
    {
        int borrow = 0;
        for (int i = a.Length - 1; i >= 0; i--)
        {
            int x = a[i] - '0', y = b[i] - '0';
            int next = x - y - borrow < 0 ? 1 : 0;
            int top = x + 10 * next;
            text.Append(top.ToString("00", CultureInfo.InvariantCulture)).Append('-').Append(y).Append('-').Append(borrow).Append('=').Append(top - y - borrow);
            if (i > 0) text.Append(',');
            borrow = next;
        }
    }

    static void MultiplySteps(StringBuilder text, string a, int factor)
    {
        int carry = 0;
        for (int i = a.Length - 1; i >= 0; i--)
        {
            int x = a[i] - '0', product = x * factor + carry;
            text.Append(x).Append('*').Append(factor).Append('+').Append(carry).Append('=').Append(product.ToString("00", CultureInfo.InvariantCulture));
            if (i > 0) text.Append(',');
            carry = product / 10;
        }
    }
}
