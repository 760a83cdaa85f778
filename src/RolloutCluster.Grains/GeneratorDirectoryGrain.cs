using RolloutCluster.Abstractions;

namespace RolloutCluster.Grains;

/// <summary>
/// Which generators exist. Silos register theirs at start-up and again every few seconds; the list is
/// also kept in grain storage, so when this grain is reactivated after its silo died it still knows the
/// others at once. Callers filter it by live membership, so entries of dead silos do no harm.
/// </summary>
public sealed class GeneratorDirectoryGrain([PersistentState("generators", RolloutStorage.Name)] IPersistentState<GeneratorDirectory> directory)
    : Grain, IGeneratorDirectoryGrain
{
    Dictionary<string, List<string>> BySilo => directory.State.BySilo;

    public async Task RegisterAsync(string silo, IReadOnlyList<string> generators)
    {
        if (BySilo.TryGetValue(silo, out var known) && known.SequenceEqual(generators, StringComparer.Ordinal)) return;
        BySilo[silo] = [.. generators];
        await directory.WriteStateAsync();
    }

    public Task<IReadOnlyList<(string Silo, string Generator)>> GetAsync() =>
        Task.FromResult<IReadOnlyList<(string, string)>>(BySilo.SelectMany(kv => kv.Value.Select(g => (kv.Key, g))).OrderBy(x => x.g, StringComparer.Ordinal).ToList());
}
