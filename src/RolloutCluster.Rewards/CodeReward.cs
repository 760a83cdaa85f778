using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Rewards;

/// <summary>
/// Runs a code completion against its tests in the sandbox. The program is prompt + code + tests,
/// then check(entry_point) when there is an entry point (HumanEval's convention), then a completion
/// marker: passing needs exit status 0 and the marker, so a program that exits early with status 0
/// passes nothing. Mode "all" scores 1 or 0; mode "fraction" runs each test case on its own and
/// scores the share that passed. The code is the last ```fenced``` block of the completion, else the
/// text of its last &lt;answer&gt;, else the whole completion.
/// </summary>
public sealed partial class CodeReward(ICodeRunner runner, string mode = "all") : IRewardFunction
{
    public string Name => "code";

    [GeneratedRegex(@"```[a-zA-Z0-9_+-]*[ \t]*\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Fenced();

    [GeneratedRegex(@"<answer>(.*?)</answer>", RegexOptions.Singleline)]
    private static partial Regex AnswerTag();

    /// <summary>The code a completion contains.</summary>
    public static string ExtractCode(string completion)
    {
        var fences = Fenced().Matches(completion);
        if (fences.Count > 0) return fences[^1].Groups[1].Value;
        var answers = AnswerTag().Matches(completion);
        return answers.Count > 0 ? answers[^1].Groups[1].Value.Trim('\n') + "\n" : completion;
    }

    public async ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        bool fraction = mode == "fraction" && input.TestCases is { Count: > 0 };
        if (input.Tests is null && input.TestCases is not { Count: > 0 }) return new RewardResult(0, "no tests for this problem");
        var nonce = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var program = Compose(input, ExtractCode(input.Completion), nonce, fraction);
        var result = await runner.RunAsync(program, cancellation);
        if (fraction)
        {
            var marker = Regex.Match(result.Stdout, $@"__ROLLOUT_TESTS__ {nonce} (\d+) (\d+)\s*$", RegexOptions.Multiline | RegexOptions.RightToLeft);
            if (!marker.Success) return new RewardResult(0, $"tests did not run to the end: {result.Describe()}");
            int passed = int.Parse(marker.Groups[1].Value, CultureInfo.InvariantCulture), total = int.Parse(marker.Groups[2].Value, CultureInfo.InvariantCulture);
            return new RewardResult((double)passed / total, $"{passed}/{total} tests passed");
        }
        bool finished = result.Stdout.Contains($"__ROLLOUT_DONE__ {nonce}", StringComparison.Ordinal);
        return result.Succeeded && finished
            ? new RewardResult(1, "all tests passed")
            : new RewardResult(0, result.Succeeded ? "exited before the tests finished" : result.Describe());
    }

    static string Compose(RewardInput input, string code, string nonce, bool fraction)
    {
        var program = new StringBuilder();
        if (input.Prompt is not null) program.Append(input.Prompt);
        program.Append(code);
        if (!code.EndsWith('\n')) program.Append('\n');
        if (fraction)
        {
            program.Append("\n\ndef __rollout_run_cases():\n    passed = 0\n    for case in ").Append(PythonList(input.TestCases!)).Append(":\n");
            program.Append("        try:\n            exec(case, globals())\n            passed += 1\n        except BaseException:\n            pass\n");
            program.Append("    print('__ROLLOUT_TESTS__ ").Append(nonce).Append("', passed, ").Append(input.TestCases!.Count.ToString(CultureInfo.InvariantCulture)).Append(")\n");
            program.Append("__rollout_run_cases()\n");
            return program.ToString();
        }
        if (input.Tests is not null) program.Append("\n\n").Append(input.Tests).Append('\n');
        if (input.TestCases is { Count: > 0 } cases) foreach (var c in cases) program.Append(c).Append('\n');
        if (input.EntryPoint is { Length: > 0 } entry) program.Append("\n\ncheck(").Append(entry).Append(")\n");
        program.Append("print('__ROLLOUT_DONE__ ").Append(nonce).Append("')\n");
        return program.ToString();
    }

    static string PythonList(IEnumerable<string> items) =>
        "[" + string.Join(", ", items.Select(i => System.Text.Json.JsonSerializer.Serialize(i))) + "]";
}
