using RolloutCluster.Abstractions;

namespace RolloutCluster.Grains;

/// <summary>
/// Which generators exist. Silos register theirs at start-up and again periodically, so the list
/// heals if this grain moves to another silo; callers filter it by live membership.
/// </summary>
public sealed class GeneratorDirectoryGrain : Grain, IGeneratorDirectoryGrain
{
    readonly Dictionary<string, IReadOnlyList<string>> _bySilo = new(StringComparer.Ordinal);

    public Task RegisterAsync(string silo, IReadOnlyList<string> generators)
    {
        _bySilo[silo] = generators;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<(string Silo, string Generator)>> GetAsync() =>
        Task.FromResult<IReadOnlyList<(string, string)>>(_bySilo.SelectMany(kv => kv.Value.Select(g => (kv.Key, g))).OrderBy(x => x.g, StringComparer.Ordinal).ToList());
}
