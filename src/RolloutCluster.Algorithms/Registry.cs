namespace RolloutCluster.Algorithms;

/// <summary>Variants of one idea chosen by name (as in job files); unknown names list the known ones.</summary>
public sealed class Registry<T>(string what, IReadOnlyDictionary<string, T> entries)
{
    public IReadOnlyCollection<string> Names => entries.Keys.ToArray();

    public T Get(string name) => entries.TryGetValue(name, out var value)
        ? value
        : throw new ArgumentException($"unknown {what} '{name}'; known: {string.Join(", ", entries.Keys)}");

    public bool Contains(string name) => entries.ContainsKey(name);
}
