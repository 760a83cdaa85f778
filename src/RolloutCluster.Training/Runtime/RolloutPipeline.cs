using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Runtime;

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
    public Dictionary<string, long> BySource { get; } = new(StringComparer.Ordinal);

    public long Dropped => DroppedStale + DroppedNoSignal + DroppedSurplus + DroppedUnused;

    public bool Balanced => Dispatched == Trained + Dropped + Failed + InFlight;

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
/// equal and refills, for a bounded number of rounds.
/// </summary>
public sealed class RolloutPipeline(IRolloutSource source, GrpoStageSpec spec, IEnumerator<Problem> prompts, long seed)
{
    readonly Queue<(Task<IReadOnlyList<ScoredGroup>> Task, int Count)> _queue = new();
    readonly List<ScoredGroup> _buffer = [];
    int _issuedThisStep;
    int _issueStep = -1;

    public GroupAccounting Accounting { get; } = new();

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
            if (_queue.Count == 0) Issue(step, version, spec.PromptsPerStep - kept.Count);
            var (task, count) = _queue.Dequeue();
            rounds++;
            IReadOnlyList<ScoredGroup> groups;
            try
            {
                groups = await task;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
            {
                Accounting.InFlight -= count;
                Accounting.Failed += count;
                continue;
            }
            Accounting.InFlight -= count;
            foreach (var g in groups)
            {
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

    /// <summary>Issues requests ahead with the current weights, so sampling overlaps the learner step.</summary>
    public void Prefetch(int step, long version)
    {
        while (_queue.Count < spec.MaxStaleness) Issue(step, version, spec.PromptsPerStep);
    }

    void Issue(int step, long version, int missing)
    {
        if (_issueStep != step) (_issueStep, _issuedThisStep) = (step, 0);
        int count = spec.DynamicSampling ? (int)Math.Ceiling(missing * spec.Oversample) : spec.PromptsPerStep;
        var problems = new List<Problem>(count);
        while (problems.Count < count && prompts.MoveNext()) problems.Add(prompts.Current);
        if (problems.Count == 0) throw new InvalidOperationException("the prompt stream ran out");
        // Seeds depend on the step and the request's place in it, never on timing.
        long requestSeed = RowRandom.RowSeed(seed, (long)step * 1000 + _issuedThisStep++);
        var request = new RolloutRequest(problems, spec.GroupSize, spec.Sampling, requestSeed, version);
        _queue.Enqueue((source.SampleAsync(request, CancellationToken.None), problems.Count));
        Accounting.Dispatched += problems.Count;
        Accounting.InFlight += problems.Count;
    }

    /// <summary>Waits for what is still in flight and counts it, with any buffered groups, as unused.</summary>
    public async Task DrainAsync()
    {
        while (_queue.Count > 0)
        {
            var (task, count) = _queue.Dequeue();
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
