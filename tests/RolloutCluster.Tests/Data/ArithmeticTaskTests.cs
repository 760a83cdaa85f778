using System.Globalization;
using System.Text.RegularExpressions;
using RolloutCluster.Data;

namespace RolloutCluster.Tests.Data;

public sealed class ArithmeticTaskTests
{
    [Theory]
    [InlineData('+', 37, 485, "037+485:7+5+0=12,3+8+1=12,0+4+1=05")]
    [InlineData('+', 999, 999, "999+999:9+9+0=18,9+9+1=19,9+9+1=19")]
    [InlineData('-', 485, 37, "485-037:15-7-0=8,08-3-1=4,04-0-0=4")]
    [InlineData('-', 37, 485, "037-485=-(485-037):15-7-0=8,08-3-1=4,04-0-0=4")]
    [InlineData('-', 100, 1, "100-001:10-1-0=9,10-0-1=9,01-0-1=0")]
    [InlineData('*', 417, 6, "417*6:7*6+0=42,1*6+4=10,4*6+1=25")]
    [InlineData('*', 0, 9, "000*9:0*9+0=00,0*9+0=00,0*9+0=00")]
    public void Worked_solutions_match_hand_written_ones(char op, int a, int b, string expected) =>
        Assert.Equal(expected, ArithmeticTask.Reasoning(op, a, b));

    /// <summary>Reads the answer back from a worked solution the way the model must: written digits, most significant first.</summary>
    static long ReadBack(string reasoning)
    {
        bool negative = reasoning.Contains("=-(", StringComparison.Ordinal);
        var steps = reasoning[(reasoning.IndexOf(':') + 1)..].Split(',');
        var results = steps.Select(s => s[(s.IndexOf('=') + 1)..]).ToArray();
        string digits;
        if (reasoning.Contains('-') && !reasoning.Contains('+') && !reasoning.Contains('*'))
            digits = string.Concat(results.Reverse());                           // one digit per step
        else
            digits = results[^1] + string.Concat(results[..^1].Reverse().Select(r => r[1]));  // last carry, then written digits
        long value = long.Parse(digits, CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    [Fact]
    public void Every_worked_solution_reads_back_to_the_answer()
    {
        var task = new ArithmeticTask(new ArithmeticSettings(), seed: 3, testSize: 200);
        foreach (var p in task.TestSet.Concat(task.Train().Take(3000)))
            Assert.Equal(long.Parse(p.Answer, CultureInfo.InvariantCulture), ReadBack(p.Reasoning!));
    }

    [Fact]
    public void Problems_have_the_documented_form_and_ranges()
    {
        var task = new ArithmeticTask(new ArithmeticSettings(), seed: 4, testSize: 300);
        var form = new Regex(@"^Compute: (\d+) ([+*-]) (\d+)$");
        var ops = new HashSet<string>();
        foreach (var p in task.TestSet)
        {
            var m = form.Match(p.Question);
            Assert.True(m.Success, p.Question);
            int a = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), b = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            ops.Add(m.Groups[2].Value);
            Assert.InRange(a, 0, 999);
            Assert.InRange(b, 0, m.Groups[2].Value == "*" ? 9 : 999);
            long expected = m.Groups[2].Value switch { "+" => a + b, "-" => a - b, _ => a * b };
            Assert.Equal(expected.ToString(CultureInfo.InvariantCulture), p.Answer);
        }
        Assert.Equal(3, ops.Count);
        Assert.Contains(task.TestSet, p => p.Answer.StartsWith('-'));
    }

    [Fact]
    public void Test_problems_never_appear_in_train_and_splits_are_reproducible()
    {
        var task = new ArithmeticTask(new ArithmeticSettings(MaxOperand: 9, MaxFactor: 9), seed: 5, testSize: 100);
        var test = task.TestSet.Select(p => p.Question).ToHashSet();
        Assert.Equal(100, test.Count);
        // 300 distinct problems exist with single digits, so train would hit the test set often if it could.
        Assert.DoesNotContain(task.Train().Take(5000), p => test.Contains(p.Question));
        var again = new ArithmeticTask(new ArithmeticSettings(MaxOperand: 9, MaxFactor: 9), seed: 5, testSize: 100);
        Assert.Equal(task.TestSet, again.TestSet);
        Assert.Equal(task.Train().Take(50), again.Train().Take(50));
        Assert.NotEqual(task.TestSet.Select(p => p.Question), new ArithmeticTask(new ArithmeticSettings(), 6, 100).TestSet.Select(p => p.Question));
    }

    [Fact]
    public void Builtin_references_resolve_to_the_jobs_test_split()
    {
        var task = new ArithmeticTask(new ArithmeticSettings(), seed: 7, testSize: 500);
        var problems = BuiltinDataset.Resolve("builtin:arithmetic?split=test&n=20", 7, new ArithmeticSettings(), 500);
        Assert.Equal(task.TestSet.Take(20), problems);
        var e = Assert.Throws<DatasetException>(() => BuiltinDataset.Resolve("builtin:arithmetic?split=test&n=900", 7, new ArithmeticSettings(), 500));
        Assert.Contains("exceeds", e.Message);
        e = Assert.Throws<DatasetException>(() => BuiltinDataset.Resolve("builtin:arithmetic?splt=test", 7, new ArithmeticSettings(), 500));
        Assert.Contains("unknown key 'splt'", e.Message);
    }

    [Fact]
    public void Templates_render_the_r1_zero_contract()
    {
        Assert.Equal("Compute: 1 + 2\n", PromptTemplate.R1Compact.Render("Compute: 1 + 2"));
        Assert.EndsWith("User: Compute: 1 + 2. Assistant:", PromptTemplate.R1Zero.Render("Compute: 1 + 2"));
        Assert.Equal("<think>x</think><answer>3</answer>", PromptTemplate.Completion("x", "3"));
    }

    [Fact]
    public void A_bad_jsonl_line_is_reported_with_file_and_line()
    {
        var path = Path.Combine(TinyModels.TempDir(), "problems.jsonl");
        File.WriteAllLines(path, ["{\"prompt\": \"Compute: 1 + 1\", \"answer\": \"2\"}", "", "{\"prompt\": \"Compute: 2 + 2\"}"]);
        var fields = new Dictionary<string, string> { ["answer"] = "answer" };
        var e = Assert.Throws<DatasetException>(() => new RolloutCluster.Data.Datasets.DatasetSource(path, Fields: fields).Load());
        Assert.Equal($"{path}:3: missing field 'answer'; the row has: prompt", e.Message);
        File.WriteAllLines(path, ["{\"prompt\": \"Compute: 1 + 1\", \"answer\": 2}", "{not json"]);
        e = Assert.Throws<DatasetException>(() => new RolloutCluster.Data.Datasets.DatasetSource(path).Load());
        Assert.StartsWith($"{path}:2: not valid JSON", e.Message);
    }
}
