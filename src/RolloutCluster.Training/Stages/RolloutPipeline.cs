using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Stages;

/// <summary>A group as GRPO trains on it: the engine's scored group and each completion's total reward with the stage's overlong shaping.</summary>
public sealed record ScoredGroup(RolloutGroup Group, IReadOnlyList<double> Rewards)
{
    /// <summary>Totals of the group's reward breakdowns plus DAPO's soft overlong penalty when the stage asks for it.</summary>
    public static ScoredGroup Shape(RolloutGroup group, OverlongSpec overlong, int maxNewTokens) =>
        new(group, group.Completions.Select((c, i) => group.Scores[i].Total + Penalty(c, overlong, maxNewTokens)).ToList());

    /// <summary>DAPO's soft overlong penalty for a completion when the stage asks for it, else 0. A truncated completion counts as one token over.</summary>
    public static double Penalty(Completion c, OverlongSpec overlong, int maxNewTokens) => overlong.Mode == "penalty"
        ? GroupFilters.SoftOverlongPenalty(c.TokenIds.Length + (c.Finish == FinishReason.Length ? 1 : 0), maxNewTokens, overlong.Buffer)
        : 0;
}

/// <summary>
/// Every group dispatched, and what became of it. The identity dispatched = trained + dropped + failed
/// holds once nothing is in flight.
/// </summary>
public sealed class GroupAccounting
{
    public long Dispatched { get; set; }
    public long Trained { get; set; }
    public long DroppedStale { get; set; }
    public long DroppedNoSignal { get; set; }
    public long DroppedSurplus { get; set; }
    public long DroppedUnused { get; set; }
    public long Failed { get; set; }
    public long InFlight { get; set; }
    public Dictionary<string, long> BySource { get; private set; } = new(StringComparer.Ordinal);

    public long Dropped => DroppedStale + DroppedNoSignal + DroppedSurplus + DroppedUnused;

    public bool Balanced => Dispatched == Trained + Dropped + Failed + InFlight;

    /// <summary>A snapshot, for readers on other threads.</summary>
    public GroupAccounting Copy()
    {
        var copy = (GroupAccounting)MemberwiseClone();
        copy.BySource = new Dictionary<string, long>(BySource, StringComparer.Ordinal);
        return copy;
    }

    /// <summary>The counts as resume.json keeps them.</summary>
    public Dictionary<string, long> ToCounts() => new(StringComparer.Ordinal)
    {
        ["dispatched"] = Dispatched, ["trained"] = Trained, ["dropped_stale"] = DroppedStale, ["dropped_no_signal"] = DroppedNoSignal,
        ["dropped_surplus"] = DroppedSurplus, ["dropped_unused"] = DroppedUnused, ["failed"] = Failed, ["in_flight"] = InFlight,
    };

    /// <summary>Continues from counts a resumed checkpoint kept (nothing is in flight after a restart).</summary>
    public void Restore(IReadOnlyDictionary<string, long>? counts)
    {
        if (counts is null) return;
        long Get(string key) => counts.GetValueOrDefault(key);
        (Dispatched, Trained, DroppedStale, DroppedNoSignal) = (Get("dispatched"), Get("trained"), Get("dropped_stale"), Get("dropped_no_signal"));
        (DroppedSurplus, DroppedUnused, Failed, InFlight) = (Get("dropped_surplus"), Get("dropped_unused") + Get("in_flight"), Get("failed"), 0);
    }

    public void AddTo(Metrics metrics)
    {
        metrics["groups/dispatched"] = Dispatched;
        metrics["groups/trained"] = Trained;
        metrics["groups/dropped_stale"] = DroppedStale;
        metrics["groups/dropped_no_signal"] = DroppedNoSignal;
        metrics["groups/dropped_surplus"] = DroppedSurplus;
        metrics["groups/dropped_unused"] = DroppedUnused;
        metrics["groups/failed"] = Failed;
        metrics["groups/in_flight"] = InFlight;
    }
}

/// <summary>
/// Keeps rollouts flowing ahead of the learner within the staleness bound (AReaL, PipelineRL): a
/// group sampled with weights version v may train version u only when u - v &lt;= max_staleness; with
/// 0 everything is synchronous. Requests are consumed in the order issued (results do not depend on
/// which generator finishes first); after each collection, max_staleness requests are issued ahead so
/// generators sample while the learner trains. Dynamic sampling drops groups whose rewards are all
/// equal and refills, for a bounded number of rounds. A request that fails (a silo died, the cluster is
/// re-forming) is counted as failed and sent again, same problems and seed, after a backoff: the
/// results are what the first attempt would have given, so the data order holds.
/// </summary>
public sealed class RolloutPipeline(IRolloutEngine engine, GrpoStageSpec spec, IReadOnlyList<RewardSpec> rewards, IEnumerator<Problem> prompts, long seed,
    Action<string>? note = null)
{
    /// <summary>Attempts per request before the stage gives up (backoff 0.5, 1, 2, then 4 s: about half a minute in all).</summary>
    public const int MaxAttempts = 10;

    readonly Queue<(Task<IReadOnlyList<RolloutGroup>> Task, RolloutRequest Request)> _queue = new();
    readonly List<ScoredGroup> _buffer = [];
    int _issuedThisStep;
    int _issueStep = -1;

    public GroupAccounting Accounting { get; } = new();

    /// <summary>Whether the prompt stream has ended (a dataset with a fixed number of epochs).</summary>
    public bool Exhausted { get; private set; }

    /// <summary>
    /// Collects up to P groups fresh enough for weights version <paramref name="version"/>. Returns the
    /// kept groups, every group received this step (for statistics), and the rounds it took.
    /// </summary>
    public async Task<(List<ScoredGroup> Kept, List<ScoredGroup> Received, int Rounds)> CollectAsync(int step, long version, CancellationToken cancellation)
    {
        var kept = new List<ScoredGroup>();
        var received = new List<ScoredGroup>();
        foreach (var g in _buffer)
        {
            if (version - g.Group.WeightsVersion > spec.MaxStaleness) Accounting.DroppedStale++;
            else kept.Add(g);
        }
        _buffer.Clear();
        int rounds = 0, maxRounds = spec.DynamicSampling ? spec.MaxSamplingRounds : 1;
        while (kept.Count < spec.PromptsPerStep && rounds < maxRounds)
        {
            if (_queue.Count == 0 && !Issue(step, version, spec.PromptsPerStep - kept.Count)) break;
            var (task, request) = _queue.Dequeue();
            int count = request.Problems.Count;
            rounds++;
            IReadOnlyList<RolloutGroup> groups;
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    groups = await task;
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
                {
                    Accounting.InFlight -= count;
                    Accounting.Failed += count;
                    if (attempt >= MaxAttempts)
                        throw new InvalidOperationException($"step {step + 1}: a rollout request of {count} problems failed {attempt} times; last error: {e.GetBaseException().Message}", e);
                    note?.Invoke($"step {step + 1}: a rollout request of {count} problems failed (attempt {attempt}), sending it again: {e.GetBaseException().GetType().Name}: {e.GetBaseException().Message}");
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(4, 0.5 * (1 << (attempt - 1)))), cancellation);
                    task = engine.RolloutAsync(request, CancellationToken.None);
                    Accounting.Dispatched += count;
                    Accounting.InFlight += count;
                }
            }
            Accounting.InFlight -= count;
            foreach (var sampled in groups)
            {
                var g = ScoredGroup.Shape(sampled, spec.Overlong, spec.Sampling.MaxNewTokens);
                received.Add(g);
                Accounting.BySource[g.Group.Generator] = Accounting.BySource.GetValueOrDefault(g.Group.Generator) + 1;
                if (version - g.Group.WeightsVersion > spec.MaxStaleness) Accounting.DroppedStale++;
                else if (spec.DynamicSampling && !GroupFilters.HasSignal(g.Rewards)) Accounting.DroppedNoSignal++;
                else kept.Add(g);
            }
        }
        if (kept.Count > spec.PromptsPerStep)
        {
            var surplus = kept.Skip(spec.PromptsPerStep).ToList();
            kept.RemoveRange(spec.PromptsPerStep, surplus.Count);
            // Fresh groups are kept for the next step when staleness allows it; otherwise they are dropped.
            if (spec.MaxStaleness > 0) _buffer.AddRange(surplus);
            else Accounting.DroppedSurplus += surplus.Count;
        }
        Accounting.Trained += kept.Count;
        return (kept, received, rounds);
    }

    /// <summary>
    /// Prompts consumed by groups that were trained or dropped: what a resumed run skips. Prompts of
    /// groups still in flight or buffered are not counted, so a resumed run samples them again.
    /// </summary>
    public long PromptsSettled(long yielded) => yielded - Accounting.InFlight - _buffer.Count;

    /// <summary>The accounting as a resumed run continues it: what is in flight or buffered now will be sampled again, so it counts as unused.</summary>
    public Dictionary<string, long> SettledCounts()
    {
        var counts = Accounting.ToCounts();
        counts["dropped_unused"] += counts["in_flight"] + _buffer.Count;
        counts["in_flight"] = 0;
        return counts;
    }

    /// <summary>No request is in flight: nothing is sampling with any version now.</summary>
    public bool Idle => _queue.Count == 0;

    /// <summary>Issues requests ahead with the current weights, so sampling overlaps the learner step.</summary>
    public void Prefetch(int step, long version)
    {
        while (_queue.Count < spec.MaxStaleness && Issue(step, version, spec.PromptsPerStep)) { }
    }

    /// <summary>Sends a request for the groups missing; false when the prompt stream has ended.</summary>
    bool Issue(int step, long version, int missing)
    {
        if (_issueStep != step) (_issueStep, _issuedThisStep) = (step, 0);
        int count = spec.DynamicSampling ? (int)Math.Ceiling(missing * spec.Oversample) : spec.PromptsPerStep;
        var problems = new List<Problem>(count);
        while (problems.Count < count && prompts.MoveNext()) problems.Add(prompts.Current);
        if (problems.Count == 0)
        {
            Exhausted = true;
            return false;
        }
        // Seeds depend on the step and the request's place in it, never on timing.
        long requestSeed = RowRandom.RowSeed(seed, (long)step * 1000 + _issuedThisStep++);
        var request = new RolloutRequest(problems, spec.GroupSize, spec.Sampling, requestSeed, version, rewards);
        _queue.Enqueue((engine.RolloutAsync(request, CancellationToken.None), request));
        Accounting.Dispatched += problems.Count;
        Accounting.InFlight += problems.Count;
        return true;
    }

    /// <summary>Waits for what is still in flight and counts it, with any buffered groups, as unused.</summary>
    public async Task DrainAsync()
    {
        while (_queue.Count > 0)
        {
            var (task, request) = _queue.Dequeue();
            int count = request.Problems.Count;
            Accounting.InFlight -= count;
            try
            {
                await task;
                Accounting.DroppedUnused += count;
            }
            catch (Exception)
            {
                Accounting.Failed += count;
            }
        }
        Accounting.DroppedUnused += _buffer.Count;
        _buffer.Clear();
    }
}
