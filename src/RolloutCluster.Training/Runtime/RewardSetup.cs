using Microsoft.Extensions.Logging;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Sandbox;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// Builds a <see cref="RewardSet"/> from reward specs, starting only what they need: the code sandbox
/// when a reward runs code, an HTTP client when one calls out. Disposing it stops them.
/// </summary>
public sealed class RewardSetup : IAsyncDisposable
{
    readonly ICodeRunner? _sandbox;
    readonly HttpClient? _http;

    RewardSetup(RewardSet set, ICodeRunner? sandbox, HttpClient? http)
    {
        Set = set;
        _sandbox = sandbox;
        _http = http;
    }

    public RewardSet Set { get; }

    public static async Task<RewardSetup> CreateAsync(IReadOnlyList<RewardSpec> specs, SandboxOptions sandboxOptions, ILogger logger, CancellationToken cancellation = default)
    {
        ICodeRunner? sandbox = specs.Any(s => RewardRegistry.NeedsSandbox(s.Name)) ? await CodeSandbox.CreateAsync(sandboxOptions, logger, cancellation) : null;
        HttpClient? http = specs.Any(s => s.Name == "http") ? new HttpClient() : null;
        var services = new RewardServices { CodeRunner = sandbox, Http = http };
        var set = new RewardSet(specs.Select(s => new WeightedReward(RewardRegistry.Create(s.Name, s.Options, services), s.Weight)).ToList());
        return new RewardSetup(set, sandbox, http);
    }

    public async ValueTask DisposeAsync()
    {
        if (_sandbox is not null) await _sandbox.DisposeAsync();
        _http?.Dispose();
    }
}
