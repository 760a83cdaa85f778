using RolloutCluster.Rewards;

namespace RolloutCluster.Tests.Data;

public sealed class RewardTests
{
    [Theory]
    [InlineData("<think>x</think><answer>522</answer>", "522", 1.0)]
    [InlineData("<think>x</think><answer> -448 </answer>", "-448", 1.0)]
    [InlineData("<think>x</think><answer>+7</answer>", "7", 1.0)]
    [InlineData("<think>x</think><answer>523</answer>", "522", 0.0)]
    [InlineData("<answer>1</answer> then <answer>2</answer>", "2", 1.0)]   // the last answer counts
    [InlineData("<think>522</think>", "522", 0.0)]                          // no answer tag
    [InlineData("<answer>5 22</answer>", "522", 0.0)]
    [InlineData("<answer>522.0</answer>", "522", 0.0)]                       // integers compare exactly
    [InlineData("<answer>12345678901234567890</answer>", "12345678901234567890", 1.0)]
    public async Task Accuracy_is_an_exact_integer_match(string completion, string answer, double expected)
    {
        var result = await new AccuracyReward().ScoreAsync(new RewardInput(completion, answer));
        Assert.Equal(expected, result.Value);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
    }

    [Theory]
    [InlineData("<think>7+5=12</think><answer>12</answer>", 1.0)]
    [InlineData("<think></think>\n<answer>12</answer>\n", 1.0)]
    [InlineData("<answer>12</answer>", 0.0)]
    [InlineData("<think>a</think><answer></answer>", 0.0)]
    [InlineData("<think>a</think><answer>1</answer><answer>2</answer>", 0.0)]
    [InlineData("<think>a<think>b</think><answer>1</answer>", 0.0)]
    [InlineData("text <think>a</think><answer>1</answer>", 0.0)]
    [InlineData("<think>a</think><answer>1</answer> trailing", 0.0)]
    public async Task Format_requires_think_then_answer(string completion, double expected) =>
        Assert.Equal(expected, (await new FormatReward().ScoreAsync(new RewardInput(completion))).Value);

    [Fact]
    public async Task A_reward_set_weights_its_functions()
    {
        var set = new RewardSet([new WeightedReward(new AccuracyReward(), 1.0), new WeightedReward(new FormatReward(), 0.1)]);
        var b = await set.ScoreAsync(new RewardInput("<think>t</think><answer>4</answer>", "4"));
        Assert.Equal(1.1, b.Total, 9);
        Assert.Equal(1.0, b.Values["accuracy"]);
        Assert.Equal(1.0, b.Values["format"]);
        b = await set.ScoreAsync(new RewardInput("<answer>5</answer>", "4"));
        Assert.Equal(0.0, b.Total, 9);
        Assert.Contains("expected 4", b.Reasons["accuracy"]);
    }
}
