using RolloutCluster.Rewards;

namespace RolloutCluster.Tests.Rewards;

/// <summary>Every reward's scope option: the whole completion, or only the answer after the reasoning.</summary>
public sealed class ScopedRewardTests
{
    const string Mixed = "<think>думаю, думаю</think><answer>yes</answer>";

    static async Task<double> Score(string name, Dictionary<string, string> options, string completion) =>
        (await RewardRegistry.Create(name, options).ScoreAsync(new RewardInput(completion))).Value;

    [Fact]
    public async Task Answer_scope_reads_only_what_follows_the_reasoning()
    {
        Assert.Equal(3.0 / 13, await Score("language", [], Mixed), 6);                                   // 10 cyrillic letters, 3 latin
        Assert.Equal(3.0 / 13, await Score("language", new() { ["scope"] = "trace" }, Mixed), 6);
        Assert.Equal(1.0, await Score("language", new() { ["scope"] = "answer" }, Mixed));                 // "yes" alone
        Assert.Equal(0.0, await Score("format", new() { ["scope"] = "answer" }, "<think>a</think><answer>1</answer>"));   // no <think> left to find
    }

    [Theory]
    [InlineData("<think>x</think> tail", " tail")]
    [InlineData("<think>a</think>b<think>c</think>d", "d")]
    [InlineData("no reasoning at all", "no reasoning at all")]
    public void The_answer_is_what_follows_the_last_think_end(string completion, string answer) =>
        Assert.Equal(answer, ScopedReward.AnswerPart(completion));

    [Fact]
    public void A_scope_other_than_trace_or_answer_is_refused_and_every_reward_lists_it()
    {
        var e = Assert.Throws<ArgumentException>(() => RewardRegistry.Create("accuracy", new Dictionary<string, string> { ["scope"] = "middle" }));
        Assert.Equal("reward 'accuracy': scope must be trace or answer, found 'middle'", e.Message);
        Assert.All(RewardRegistry.Names, name => Assert.Contains("scope", RewardRegistry.OptionsOf(name)));
    }
}
