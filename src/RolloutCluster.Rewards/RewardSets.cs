using Microsoft.Extensions.Logging;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Rewards;

/// <summary>
/// Builds <see cref="RewardSet"/>s from reward specs, once per distinct list, starting only what they
/// need: the code sandbox (with this host's isolation settings) the first time a code reward asks for
/// it, one HTTP client, and the host's reward models (<paramref name="models"/>; without them the
/// <c>model</c> reward is refused). The one factory of rewards: a silo's verifiers, an in-process job
/// and `rollout score` all use it. Disposing it stops the sandbox.
/// </summary>
public sealed class RewardSets(SandboxOptions sandboxOptions, ILogger logger, IRewardModelSource? models = null) : IAsyncDisposable
{
    readonly Dictionary<string, Task<RewardSet>> _sets = new(StringComparer.Ordinal);
    readonly Lock _lock = new();
    readonly HttpClient _http = new();
    Task<ICodeRunner>? _sandbox;

    /// <summary>The reward set of these specs (built on first use); a sandbox that cannot start fails the call, naming what to install.</summary>
    public Task<RewardSet> GetAsync(IReadOnlyList<RewardSpec> rewards, CancellationToken cancellation = default)
    {
        var key = string.Join(";", rewards.Select(r => r.Key));
        lock (_lock)
        {
            if (_sets.TryGetValue(key, out var existing) && !existing.IsFaulted) return existing;
            var created = BuildAsync(rewards, cancellation);
            _sets[key] = created;
            return created;
        }
    }

    async Task<RewardSet> BuildAsync(IReadOnlyList<RewardSpec> rewards, CancellationToken cancellation)
    {
        ICodeRunner? sandbox = null;
        if (rewards.Any(r => RewardRegistry.NeedsSandbox(r.Name)))
        {
            Task<ICodeRunner> starting;
            lock (_lock)
            {
                if (_sandbox is null or { IsFaulted: true }) _sandbox = CodeSandbox.CreateAsync(sandboxOptions, logger, cancellation);
                starting = _sandbox;
            }
            sandbox = await starting;
        }
        var services = new RewardServices { CodeRunner = sandbox, Http = _http, RewardModels = models };
        return new RewardSet(rewards.Select(r => new WeightedReward(RewardRegistry.Create(r.Name, r.Options, services), r.Weight)).ToList());
    }

    public async ValueTask DisposeAsync()
    {
        if (_sandbox is { IsCompletedSuccessfully: true }) await (await _sandbox).DisposeAsync();
        _http.Dispose();
    }
}
