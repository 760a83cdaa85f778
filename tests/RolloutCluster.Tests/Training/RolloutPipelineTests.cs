using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Tests.Training;

/// <summary>
/// The GRPO stage's rollout pipeline against a fake engine (no model, no cluster): the staleness
/// bound, dynamic sampling, surplus, retries and the accounting identity, in milliseconds.
/// </summary>
public sealed class RolloutPipelineTests
{
    /// <summary>
    /// Problems whose number is even get rewards [1, 0, 1, 0] (a signal), odd ones all 1 (none).
    /// Calls listed in failOn throw (a silo died); every request is recorded.
    /// </summary>
    sealed class FakeEngine(params int[] failOn) : IRolloutEngine
    {
        public List<RolloutRequest> Requests { get; } = [];
        int _calls;

        public Task<long> PublishAsync(long? forgetBelow, CancellationToken cancellation) => Task.FromResult(0L);
        public void ForgetPublished() { }

        public Task<IReadOnlyList<RolloutGroup>> RolloutAsync(RolloutRequest request, CancellationToken cancellation)
        {
            Requests.Add(request);
            if (failOn.Contains(++_calls)) return Task.FromException<IReadOnlyList<RolloutGroup>>(new InvalidOperationException("silo lost"));
            IReadOnlyList<RolloutGroup> groups = request.Problems.Select(p =>
            {
                bool signal = int.Parse(p.Id) % 2 == 0;
                var scores = Enumerable.Range(0, request.Samples).Select(j => new RewardBreakdown(signal ? (j + 1) % 2 : 1,
                    new Dictionary<string, double> { ["accuracy"] = signal ? (j + 1) % 2 : 1 }, new Dictionary<string, string>())).ToList();
                var completions = Enumerable.Range(0, request.Samples).Select(_ => new Completion([1, 2], [-0.5f, -0.5f], "x", FinishReason.Stop)).ToList();
                return new RolloutGroup(p, [0], completions, scores, request.Version, "fake");
            }).ToList();
            return Task.FromResult(groups);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    static GrpoStageSpec Spec(int prompts = 4, bool dynamic = false, int rounds = 3, double oversample = 1, int staleness = 0) =>
        new("grpo", 10, new OptimizerConfig(), 64, null, prompts, 4, new SamplingSpec(1, 1, 0, 16), "grpo", new PolicyLossConfig(), 0, "k3",
            dynamic, rounds, oversample, new OverlongSpec("none", 16), staleness, true);

    static IEnumerator<Problem> Problems(Func<int, bool>? keep = null, int count = int.MaxValue) =>
        Enumerable.Range(0, count).Where(i => keep?.Invoke(i) ?? true).Select(i => new Problem(i.ToString(), $"q{i}", "1")).GetEnumerator();

    static RolloutPipeline Pipeline(FakeEngine engine, GrpoStageSpec spec, IEnumerator<Problem> problems) =>
        new(engine, spec, [new RewardSpec("accuracy", 1)], problems, seed: 5);

    [Fact]
    public async Task Dynamic_sampling_drops_groups_without_signal_and_refills_with_oversampling()
    {
        var engine = new FakeEngine();
        var pipeline = Pipeline(engine, Spec(prompts: 4, dynamic: true, oversample: 2), Problems());
        var (kept, received, rounds) = await pipeline.CollectAsync(0, 0, CancellationToken.None);
        Assert.Equal(4, kept.Count);
        Assert.All(kept, g => Assert.True(GroupFilters.HasSignal(g.Rewards)));
        Assert.Equal(1, rounds);                         // 8 problems sampled, 4 with signal
        Assert.Equal(8, engine.Requests[0].Problems.Count);
        Assert.Equal(8, received.Count);
        Assert.Equal((8, 4, 4), (pipeline.Accounting.Dispatched, pipeline.Accounting.Trained, pipeline.Accounting.DroppedNoSignal));
        Assert.True(pipeline.Accounting.Balanced);
    }

    [Fact]
    public async Task Surplus_groups_are_dropped_when_synchronous_and_kept_for_the_next_step_within_the_staleness_bound()
    {
        // Only problems with signal, so an oversampled round brings more than the step needs.
        var sync = Pipeline(new FakeEngine(), Spec(prompts: 3, dynamic: true, oversample: 2), Problems(i => i % 2 == 0));
        var (kept, _, _) = await sync.CollectAsync(0, 0, CancellationToken.None);
        Assert.Equal((3, 3L), (kept.Count, sync.Accounting.DroppedSurplus));

        var ahead = Pipeline(new FakeEngine(), Spec(prompts: 3, dynamic: true, oversample: 2, staleness: 1), Problems(i => i % 2 == 0));
        (kept, _, _) = await ahead.CollectAsync(0, 0, CancellationToken.None);
        Assert.Equal((3, 0L), (kept.Count, ahead.Accounting.DroppedSurplus));
        Assert.Equal(3, ahead.PromptsSettled(6));        // the 3 buffered groups are not settled yet
        (kept, _, _) = await ahead.CollectAsync(1, 1, CancellationToken.None);
        Assert.Equal(["6", "8", "10"], kept.Select(g => g.Group.Problem.Id));
        Assert.True(ahead.Accounting.Balanced);
    }

    [Fact]
    public async Task Groups_older_than_the_staleness_bound_are_dropped()
    {
        var pipeline = Pipeline(new FakeEngine(), Spec(prompts: 2, staleness: 1), Problems(i => i % 2 == 0));
        await pipeline.CollectAsync(0, 0, CancellationToken.None);
        pipeline.Prefetch(0, 0);                         // issued with version 0 while the learner trains version 1
        var (kept, _, _) = await pipeline.CollectAsync(1, 2, CancellationToken.None);   // two updates later: lag 2 > 1
        Assert.Equal(2, pipeline.Accounting.DroppedStale);
        Assert.All(kept, g => Assert.Equal(2, g.Group.WeightsVersion));
        Assert.True(pipeline.Accounting.Balanced);
    }

    [Fact]
    public async Task A_failed_request_counts_as_failed_and_is_sent_again_with_the_same_problems_and_seed()
    {
        var engine = new FakeEngine(failOn: 1);
        var notes = new List<string>();
        var pipeline = new RolloutPipeline(engine, Spec(prompts: 2), [new RewardSpec("accuracy", 1)], Problems(i => i % 2 == 0), 5, notes.Add);
        var (kept, _, _) = await pipeline.CollectAsync(0, 0, CancellationToken.None);
        Assert.Equal(2, kept.Count);
        Assert.Equal(2, engine.Requests.Count);
        Assert.Equal(engine.Requests[0], engine.Requests[1]);
        Assert.Equal((4L, 2L, 2L), (pipeline.Accounting.Dispatched, pipeline.Accounting.Failed, pipeline.Accounting.Trained));
        Assert.True(pipeline.Accounting.Balanced);
        Assert.Contains(notes, n => n.Contains("failed (attempt 1), sending it again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Request_seeds_depend_on_the_step_and_order_never_on_timing()
    {
        var a = new FakeEngine();
        var b = new FakeEngine();
        foreach (var engine in new[] { a, b })
        {
            var pipeline = Pipeline(engine, Spec(prompts: 2, dynamic: true, rounds: 3), Problems());
            for (int step = 0; step < 3; step++) await pipeline.CollectAsync(step, step, CancellationToken.None);
        }
        Assert.Equal(a.Requests.Select(r => (r.Seed, string.Join(",", r.Problems.Select(p => p.Id)))), b.Requests.Select(r => (r.Seed, string.Join(",", r.Problems.Select(p => p.Id)))));
        Assert.Equal(a.Requests.Count, a.Requests.Select(r => r.Seed).Distinct().Count());
    }

    [Fact]
    public async Task A_finite_dataset_ends_the_stream_instead_of_failing()
    {
        var pipeline = Pipeline(new FakeEngine(), Spec(prompts: 2), Problems(count: 3));
        var (kept, _, _) = await pipeline.CollectAsync(0, 0, CancellationToken.None);
        Assert.Equal(2, kept.Count);
        (kept, _, _) = await pipeline.CollectAsync(1, 0, CancellationToken.None);
        Assert.Single(kept);
        (kept, _, _) = await pipeline.CollectAsync(2, 0, CancellationToken.None);
        Assert.Empty(kept);
        Assert.True(pipeline.Exhausted);
        await pipeline.DrainAsync();
        Assert.True(pipeline.Accounting.Balanced);
    }

    [Fact]
    public void The_overlong_penalty_is_shaped_by_the_stage_not_by_the_engine()
    {
        var completion = new Completion(new int[16], new float[16], "x", FinishReason.Length);
        var group = new RolloutGroup(new Problem("0", "q", "1"), [0], [completion], [new RewardBreakdown(1, new Dictionary<string, double>(), new Dictionary<string, string>())], 0);
        Assert.Equal([1.0], ScoredGroup.Shape(group, new OverlongSpec("none", 4), 16).Rewards);
        Assert.Equal([0.0], ScoredGroup.Shape(group, new OverlongSpec("penalty", 4), 16).Rewards);   // 17 tokens counted: past the limit, -1
    }
}
