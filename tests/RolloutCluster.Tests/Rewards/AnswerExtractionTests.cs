using RolloutCluster.Rewards.Answers;

namespace RolloutCluster.Tests.Rewards;

public sealed class AnswerExtractionTests
{
    [Theory]
    [InlineData("<think>…</think><answer>42</answer>", "42")]
    [InlineData("so the total is 18.\n#### 18", "18")]
    [InlineData("#### 1,000", "1,000")]
    [InlineData("Therefore \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}")]
    [InlineData("\\boxed{\\left(1, \\frac{\\sqrt{3}}{2}\\right)}", "\\left(1, \\frac{\\sqrt{3}}{2}\\right)")]
    [InlineData("The answer is 7.", "7")]
    [InlineData("So the final answer is: $3.50", "$3.50")]
    [InlineData("the answer is 5. Wait, \\boxed{6}", "6")]                    // the last one wins
    [InlineData("\\boxed{6} ... on reflection <answer>7</answer>", "7")]
    [InlineData("<answer>1</answer> #### 2", "2")]
    [InlineData("#### 2\n<answer>1</answer>", "1")]
    [InlineData("The answer is \\boxed{9}.", "9")]
    public void The_last_stated_answer_wins(string completion, string expected) =>
        Assert.Equal(expected, AnswerExtraction.Extract(completion));

    [Theory]
    [InlineData("I think it might be 42 but I'm not sure")]
    [InlineData("\\boxed{unclosed")]
    [InlineData("")]
    public void No_answer_is_null(string completion) => Assert.Null(AnswerExtraction.Extract(completion));
}
