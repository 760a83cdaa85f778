using Microsoft.Extensions.Logging;
using RolloutCluster.Abstractions;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Grains;

/// <summary>
/// This silo's reward machinery: reward sets built once per distinct reward list, the code sandbox
/// started the first time a code reward needs it, one HTTP client.
/// </summary>
public sealed class RewardHost(SandboxOptions sandboxOptions, ILoggerFactory loggers) : IAsyncDisposable
{
    readonly Dictionary<string, Task<RewardSet>> _sets = new(StringComparer.Ordinal);
    readonly Lock _lock = new();
    readonly HttpClient _http = new();
    Task<ICodeRunner>? _sandbox;

    public Task<RewardSet> GetAsync(IReadOnlyList<RewardWire> rewards)
    {
        var key = string.Join(";", rewards.Select(r => $"{r.Name}:{r.Weight}:{string.Join(",", r.Options.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}"))}"));
        lock (_lock)
        {
            if (_sets.TryGetValue(key, out var existing) && !existing.IsFaulted) return existing;
            var created = BuildAsync(rewards);
            _sets[key] = created;
            return created;
        }
    }

    async Task<RewardSet> BuildAsync(IReadOnlyList<RewardWire> rewards)
    {
        ICodeRunner? sandbox = null;
        if (rewards.Any(r => RewardRegistry.NeedsSandbox(r.Name)))
        {
            lock (_lock) _sandbox ??= CodeSandbox.CreateAsync(sandboxOptions, loggers.CreateLogger<CodeSandbox>());
            sandbox = await _sandbox;
        }
        var services = new RewardServices { CodeRunner = sandbox, Http = _http };
        return new RewardSet(rewards.Select(r => new WeightedReward(RewardRegistry.Create(r.Name, r.Options, services), r.Weight)).ToList());
    }

    public async ValueTask DisposeAsync()
    {
        if (_sandbox is { IsCompletedSuccessfully: true }) await (await _sandbox).DisposeAsync();
        _http.Dispose();
    }
}
