using System.Net;
using System.Text;
using RolloutCluster.Rewards;

namespace RolloutCluster.Tests.Rewards;

public sealed class OtherRewardTests
{
    [Theory]
    [InlineData("latin", "<think>The answer is clear.</think><answer>yes</answer>", 1.0)]
    [InlineData("latin", "Half English половина", 11.0 / 19)]            // 11 latin letters, 8 cyrillic
    [InlineData("cyrillic", "Ответ: сорок два", 1.0)]
    [InlineData("han", "答案是四十二", 1.0)]
    [InlineData("latin", "12345 + 678", 1.0)]                          // no letters: nothing in another script
    public async Task Language_is_the_share_of_letters_in_the_target_script(string script, string completion, double expected) =>
        Assert.Equal(expected, (await new LanguageReward(script).ScoreAsync(new RewardInput(completion))).Value, 2);

    [Theory]
    [InlineData(100, 0.0)]
    [InlineData(512, 0.0)]
    [InlineData(576, -0.5)]
    [InlineData(640, -1.0)]
    [InlineData(5000, -1.0)]
    public async Task Length_penalises_reasoning_past_the_effort_budget(int thinkLength, double expected)
    {
        var completion = "<think>" + new string('x', thinkLength) + "</think><answer>1</answer>";
        var result = await new LengthReward("low").ScoreAsync(new RewardInput(completion));
        Assert.Equal(expected, result.Value, 9);
        Assert.Contains("low budget of 512", result.Reason);
    }

    [Theory]
    [InlineData("low", 11, -0.5)]       // budget 10, buffer 2: 1 over
    [InlineData("medium", 12, 0.0)]     // budget 40
    [InlineData(null, 45, -0.5)]        // no level asked: medium's budget 40, buffer 10
    [InlineData("high", 45, 0.0)]       // budget 160
    public async Task With_effort_prompt_each_completion_is_held_to_the_level_its_prompt_asked_for(string? effort, int thinkLength, double expected)
    {
        var reward = RewardRegistry.Create("length", new Dictionary<string, string> { ["effort"] = "prompt", ["low"] = "10", ["medium"] = "40", ["high"] = "160" });
        var completion = "<think>" + new string('x', thinkLength) + "</think><answer>1</answer>";
        var result = await reward.ScoreAsync(new RewardInput(completion, Effort: effort));
        Assert.Equal(expected, result.Value, 9);
        Assert.Contains($"{effort ?? "medium"} budget of", result.Reason);
    }

    [Fact]
    public void Length_options_that_contradict_or_name_no_level_are_refused()
    {
        Assert.Contains("with effort: prompt set low, medium and high instead",
            Assert.Throws<ArgumentException>(() => RewardRegistry.Create("length", new Dictionary<string, string> { ["effort"] = "prompt", ["budget"] = "10" })).Message);
        Assert.Contains("unknown effort 'extreme'; known: low, medium, high, or prompt",
            Assert.Throws<ArgumentException>(() => RewardRegistry.Create("length", new Dictionary<string, string> { ["effort"] = "extreme" })).Message);
        Assert.Contains("low must be a positive integer, found '0'",
            Assert.Throws<ArgumentException>(() => RewardRegistry.Create("length", new Dictionary<string, string> { ["low"] = "0" })).Message);
    }

    [Fact]
    public async Task Http_reward_posts_the_completion_and_reads_the_score()
    {
        using var listener = new HttpListener();
        int port = Random.Shared.Next(20000, 60000);
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serving = Task.Run(async () =>
        {
            for (int i = 0; i < 3; i++)
            {
                var context = await listener.GetContextAsync();
                var body = await new StreamReader(context.Request.InputStream).ReadToEndAsync();
                var (status, reply) = context.Request.Url!.AbsolutePath switch
                {
                    "/good" => (200, body.Contains("\"completion\":\"forty-two\"") ? "{\"reward\": 0.75, \"reason\": \"judge liked it\"}" : "{\"reward\": 0}"),
                    "/broken" => (500, "oops"),
                    _ => (200, "{\"score\": 1}"),
                };
                context.Response.StatusCode = status;
                var bytes = Encoding.UTF8.GetBytes(reply);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        using var client = new HttpClient();
        var input = new RewardInput("forty-two", "42", "What is 6 x 7?");
        var good = await new HttpReward(client, new Uri($"http://127.0.0.1:{port}/good"), TimeSpan.FromSeconds(5)).ScoreAsync(input);
        Assert.Equal(0.75, good.Value);
        Assert.Equal("judge liked it", good.Reason);
        var broken = await new HttpReward(client, new Uri($"http://127.0.0.1:{port}/broken"), TimeSpan.FromSeconds(5)).ScoreAsync(input);
        Assert.Equal(0, broken.Value);
        Assert.Contains("500", broken.Reason);
        var wrongShape = await new HttpReward(client, new Uri($"http://127.0.0.1:{port}/other"), TimeSpan.FromSeconds(5)).ScoreAsync(input);
        Assert.Contains("without a numeric \"reward\"", wrongShape.Reason);
        await serving;
        var unreachable = await new HttpReward(client, new Uri("http://127.0.0.1:1/"), TimeSpan.FromSeconds(2)).ScoreAsync(input);
        Assert.Equal(0, unreachable.Value);
    }

    [Fact]
    public async Task Math_reward_asks_the_judge_only_when_the_rules_cannot_decide()
    {
        var judge = new CountingJudge();
        var reward = new MathReward("math", judge);
        Assert.Equal(1, (await reward.ScoreAsync(new RewardInput("\\boxed{\\frac{1}{2}}", "0.5"))).Value);
        Assert.Equal(0, (await reward.ScoreAsync(new RewardInput("\\boxed{3}", "0.5"))).Value);
        Assert.Equal(0, judge.Calls);
        var judged = await reward.ScoreAsync(new RewardInput("\\boxed{\\sqrt{2}}", "1.41421356"));
        Assert.Equal(1, judge.Calls);
        Assert.Equal(1, judged.Value);
        Assert.StartsWith("judged correct", judged.Reason);
        var noJudge = await new MathReward().ScoreAsync(new RewardInput("\\boxed{\\sqrt{2}}", "1.41421356"));
        Assert.Contains("no judge configured", noJudge.Reason);
    }

    sealed class CountingJudge : IAnswerJudge
    {
        public int Calls;
        public ValueTask<bool?> JudgeAsync(string prediction, string reference, string? question, CancellationToken cancellation)
        {
            Calls++;
            return ValueTask.FromResult<bool?>(true);
        }
    }

    [Fact]
    public void Reward_options_are_checked_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => RewardRegistry.Create("length", new Dictionary<string, string> { ["effrot"] = "low" }));
        Assert.Contains("no option 'effrot'; known: effort, budget", e.Message);
        e = Assert.Throws<ArgumentException>(() => RewardRegistry.Create("language", new Dictionary<string, string> { ["script"] = "klingon" }));
        Assert.Contains("unknown script 'klingon'", e.Message);
        e = Assert.Throws<ArgumentException>(() => RewardRegistry.Create("http", new Dictionary<string, string> { ["url"] = "ftp://x" }, new RewardServices { Http = new HttpClient() }));
        Assert.Contains("absolute http(s) URL", e.Message);
    }
}
