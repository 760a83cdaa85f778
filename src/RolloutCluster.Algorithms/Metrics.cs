namespace RolloutCluster.Algorithms;

/// <summary>Named scalars from one step, keyed "namespace/name" (actor/pg_loss, reward/mean, …) as veRL names them.</summary>
public sealed class Metrics : Dictionary<string, double>
{
    public Metrics() : base(StringComparer.Ordinal) { }

    /// <summary>Adds every entry of other, overwriting equal keys.</summary>
    public Metrics Merge(IReadOnlyDictionary<string, double> other)
    {
        foreach (var (k, v) in other) this[k] = v;
        return this;
    }
}
