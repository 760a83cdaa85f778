using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Tests.Training;

/// <summary>Self-refinement: feedback that never gives the answer away, prompts that carry the attempts, accuracy per round.</summary>
public sealed class SelfRefinementTests
{
    [Fact]
    public void Feedback_names_what_was_wrong_but_never_the_expected_answer()
    {
        var math = SelfRefinement.Feedback("accuracy", "<think>40+1</think><answer>41</answer>", "wrong: 41, expected 42");
        Assert.Equal("Feedback: 41 is not the correct answer. Try again.", math);
        Assert.DoesNotContain("42", math);
        Assert.Equal("Feedback: no final answer was found in <answer></answer>. Try again.", SelfRefinement.Feedback("math", "I give up", "no final answer found"));
        var code = SelfRefinement.Feedback("code", "def f(): return 0", "exit 1: AssertionError at line 3");
        Assert.Equal("Feedback: the program failed its tests: exit 1: AssertionError at line 3. Fix it.", code);
    }

    [Fact]
    public void Earlier_attempts_and_their_feedback_follow_the_prompt()
    {
        var builder = new PromptBuilder(TinyModels.Tokenizer, PromptTemplate.R1Compact);
        var problem = new Problem("p", "Compute: 1 + 1", "2") { Refinements = [new("<answer>3</answer>", "Feedback: 3 is wrong."), new("<answer>4</answer>", "Feedback: 4 is wrong.")] };
        Assert.Equal("Compute: 1 + 1\n<answer>3</answer>\nFeedback: 3 is wrong.\n<answer>4</answer>\nFeedback: 4 is wrong.\nCompute: 1 + 1\n", builder.Text(problem));
        Assert.Equal("Compute: 1 + 1\n", builder.Text(problem with { Refinements = null }));
        Assert.Equal("Reasoning effort: high\nCompute: 1 + 1\n", builder.Text(problem with { Refinements = null, Effort = "high" }));
        Assert.Equal("Compute: 1 + 1\nReasoning effort: high\n",
            new PromptBuilder(TinyModels.Tokenizer, PromptTemplate.R1Compact, effortLast: true).Text(problem with { Refinements = null, Effort = "high" }));
    }

    /// <summary>Problem i's samples turn right in round i (the round is read back from the attempt in the prompt); every request is recorded.</summary>
    sealed class ScriptedEngine : IRolloutEngine
    {
        public List<RolloutRequest> Requests { get; } = [];

        public Task<long> PublishAsync(long? forgetBelow, CancellationToken cancellation) => Task.FromResult(0L);
        public void ForgetPublished() { }

        public Task<IReadOnlyList<RolloutGroup>> RolloutAsync(RolloutRequest request, CancellationToken cancellation)
        {
            Requests.Add(request);
            IReadOnlyList<RolloutGroup> groups = request.Problems.Select(p =>
            {
                int rounds = p.Refinements is [.., var last] ? int.Parse(last.Attempt.Split("wrong")[1].Split('<')[0]) + 1 : 0;
                bool right = rounds >= int.Parse(p.Id);
                string text = $"<answer>{(right ? p.Answer : "wrong" + rounds)}</answer>";
                var scores = Enumerable.Range(0, request.Samples).Select(_ => new RewardBreakdown(right ? 1 : 0,
                    new Dictionary<string, double> { ["accuracy"] = right ? 1 : 0 }, new Dictionary<string, string> { ["accuracy"] = right ? "correct" : "wrong, expected " + p.Answer })).ToList();
                var completions = Enumerable.Range(0, request.Samples).Select(_ => new Completion([1], [-0.1f], text, FinishReason.Stop)).ToList();
                return new RolloutGroup(p, [0], completions, scores, request.Version);
            }).ToList();
            return Task.FromResult(groups);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    static readonly List<RewardSpec> Rewards = [new("accuracy", 1)];
    static readonly SamplingSpec Sampling = new(1, 1, 0, 16);

    /// <summary>Two first samples of each of three problems (problem 0's right, the others' wrong), then rounds of retries.</summary>
    static async Task<(ScriptedEngine Engine, IReadOnlyList<double> Accuracy)> Refine(int rounds, bool feedback)
    {
        var engine = new ScriptedEngine();
        var problems = Enumerable.Range(0, 3).Select(i => new Problem(i.ToString(), $"q{i}", $"a{i}")).ToList();
        var first = await engine.RolloutAsync(new RolloutRequest(problems, 2, Sampling, 1, 0, Rewards), default);
        return (engine, await SelfRefinement.RunAsync(engine, 0, first, rounds, Sampling, seed: 1, Rewards, "accuracy", default, feedback));
    }

    [Fact]
    public async Task Only_wrong_samples_are_retried_and_accuracy_is_reported_after_each_round()
    {
        var (engine, accuracy) = await Refine(rounds: 3, feedback: true);
        Assert.Equal([2 / 6.0, 4 / 6.0, 1.0, 1.0], accuracy);
        // Round 1 retries the four wrong samples (problems 1 and 2), round 2 the two of problem 2, round 3 nothing.
        Assert.Equal([6, 4, 2], engine.Requests.Select(r => r.Problems.Count * r.Samples));
        var retry = engine.Requests[2].Problems[0];
        Assert.Equal("2", retry.Id);
        var latest = Assert.Single(retry.Refinements!);   // only the latest attempt rides along: prompts stay bounded
        Assert.Equal("<answer>wrong1</answer>", latest.Attempt);
        Assert.Equal("Feedback: wrong1 is not the correct answer. Try again.", latest.Feedback);   // the expected answer (a2) stays hidden
        Assert.Equal("q2", retry.Question);   // rewards still read the bare problem
    }

    [Fact]
    public async Task The_control_retries_the_bare_problem_so_the_difference_is_the_feedbacks()
    {
        var (engine, accuracy) = await Refine(rounds: 2, feedback: false);
        Assert.Equal([2 / 6.0, 2 / 6.0, 2 / 6.0], accuracy);   // this engine only ever fixes a sample that was told what went wrong
        Assert.All(engine.Requests.Skip(1).SelectMany(r => r.Problems), p => Assert.Null(p.Refinements));
        Assert.NotEqual(engine.Requests[1].Seed, engine.Requests[2].Seed);   // each round a fresh draw
    }
}
