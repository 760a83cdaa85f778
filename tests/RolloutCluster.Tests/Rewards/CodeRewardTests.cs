using RolloutCluster.Rewards;

namespace RolloutCluster.Tests.Rewards;

[Collection("sandbox")]
public sealed class CodeRewardTests(SandboxFixture fixture)
{
    const string Prompt = "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n";
    const string Tests = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n";

    [Theory]
    [InlineData("    return a + b\n", 1.0)]
    [InlineData("    return a - b\n", 0.0)]
    [InlineData("```python\ndef add(a, b):\n    return b + a\n```", 1.0)]              // a fenced full function is extracted
    [InlineData("<think>easy</think><answer>    return a + b</answer>", 1.0)]         // the answer tag's text
    [InlineData("    return a +\n", 0.0)]                                            // a syntax error
    public async Task Humaneval_style_programs_pass_or_fail(string completion, double expected)
    {
        var result = await new CodeReward(fixture.Sandbox).ScoreAsync(new RewardInput(completion, Prompt: Prompt, Tests: Tests, EntryPoint: "add"));
        Assert.Equal(expected, result.Value);
    }

    [Fact]
    public async Task Fraction_mode_counts_the_test_cases_that_pass()
    {
        string[] cases = ["assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(0, 0) == 0"];
        var reward = new CodeReward(fixture.Sandbox, "fraction");
        var result = await reward.ScoreAsync(new RewardInput("def add(a, b):\n    return a + b\n", TestCases: cases));
        Assert.Equal(2.0 / 3, result.Value, 9);
        Assert.Equal("2/3 tests passed", result.Reason);
    }

    [Fact]
    public async Task Parallel_runs_use_every_lane_and_stay_correct()
    {
        var reward = new CodeReward(fixture.Sandbox);
        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            reward.ScoreAsync(new RewardInput(i % 2 == 0 ? "    return a + b\n" : "    return a * b\n", Prompt: Prompt, Tests: Tests, EntryPoint: "add")).AsTask()));
        Assert.Equal(Enumerable.Range(0, 24).Select(i => i % 2 == 0 ? 1.0 : 0.0), results.Select(r => r.Value));
    }
}
