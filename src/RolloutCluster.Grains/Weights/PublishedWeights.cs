using System.Collections.Concurrent;

namespace RolloutCluster.Grains.Weights;

/// <summary>
/// This silo's learners' weight stores by job (one per learner activation), shared by the learner
/// grains that fill them, the <see cref="WeightServer"/> that serves them over TCP and the
/// <see cref="WeightCache"/>, which reads a local learner's buffers without copying them.
/// </summary>
public sealed class PublishedWeights(WeightBufferPool pool)
{
    readonly ConcurrentDictionary<string, WeightStore> _stores = new(StringComparer.Ordinal);

    /// <summary>"host:port" of this silo's weight server once it listens; null when bulk transfer is off.</summary>
    public string? TransferEndpoint { get; set; }

    /// <summary>A fresh store (and token) for a learner activation, replacing any earlier one of the job.</summary>
    public WeightStore Open(string job)
    {
        var store = new WeightStore(() => TransferEndpoint, pool);
        WeightStore? earlier = null;
        _stores.AddOrUpdate(job, store, (_, old) =>
        {
            earlier = old;
            return store;
        });
        earlier?.Clear();
        return store;
    }

    /// <summary>Forgets the store if it is still the job's current one.</summary>
    public void Close(string job, WeightStore store)
    {
        _stores.TryRemove(KeyValuePair.Create(job, store));
        store.Clear();
    }

    public WeightStore? Find(string job) => _stores.TryGetValue(job, out var store) ? store : null;
}
