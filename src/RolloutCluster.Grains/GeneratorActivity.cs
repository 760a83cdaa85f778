using System.Diagnostics.Metrics;

namespace RolloutCluster.Grains;

/// <summary>
/// What this silo's generators have done since start: seconds sampling, seconds waiting for
/// verifiers, requests and groups served, per generator. Exported as counters on the "RolloutCluster"
/// meter (Prometheus: rollout_generator_*); utilization is sample seconds over wall time.
/// </summary>
public sealed class GeneratorActivity : IDisposable
{
    public sealed record Totals(double SampleSeconds, double ScoreSeconds, long Requests, long Groups);

    readonly Dictionary<string, Totals> _byGenerator = new(StringComparer.Ordinal);
    readonly Lock _lock = new();
    readonly Meter _meter = new("RolloutCluster");

    public GeneratorActivity()
    {
        _meter.CreateObservableCounter("rollout_generator_sample_seconds", () => Observe(t => t.SampleSeconds), "s", "time each generator spent sampling");
        _meter.CreateObservableCounter("rollout_generator_score_seconds", () => Observe(t => t.ScoreSeconds), "s", "time each generator waited for its verifier");
        _meter.CreateObservableCounter("rollout_generator_groups", () => Observe(t => (double)t.Groups), description: "groups each generator returned");
    }

    public void Record(string generator, double sampleSeconds, double scoreSeconds, int groups)
    {
        lock (_lock)
        {
            var t = _byGenerator.GetValueOrDefault(generator) ?? new Totals(0, 0, 0, 0);
            _byGenerator[generator] = new Totals(t.SampleSeconds + sampleSeconds, t.ScoreSeconds + scoreSeconds, t.Requests + 1, t.Groups + groups);
        }
    }

    /// <summary>A copy of the totals, by generator key.</summary>
    public IReadOnlyDictionary<string, Totals> Snapshot()
    {
        lock (_lock) return new Dictionary<string, Totals>(_byGenerator, StringComparer.Ordinal);
    }

    IEnumerable<Measurement<double>> Observe(Func<Totals, double> value) =>
        Snapshot().Select(kv => new Measurement<double>(value(kv.Value), new KeyValuePair<string, object?>("generator", kv.Key)));

    public void Dispose() => _meter.Dispose();
}

