using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using RolloutCluster.Grains;
using RolloutCluster.Silo;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// A cluster silo process for benchmarks/broadcast.sh: the real silo host (Redis clustering, learner,
/// weight server, weight cache, verifier) with <see cref="InstantGeneratorGrain"/> in place of the
/// generator, so a job's weight broadcast across processes is measured without sampling competing
/// for the cores. Takes the flags cluster/local-cluster.sh gives `rollout silo` (ROLLOUT_CLI points it here).
/// </summary>
public static class InstantSilo
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        var config = new SiloConfig
        {
            Redis = args.Get("redis", "") is { Length: > 0 } redis ? redis : null,
            SiloPort = args.Int("silo-port", 11111),
            GatewayPort = args.Int("gateway-port", 30000),
            DashboardPort = args.Int("dashboard-port", 0),
            RunsDirectory = args.Get("runs-directory", "runs"),
            Devices = args.Get("devices", "cpu") == "none" ? "none" : "cpu",   // none: a learner silo (ROLLOUT_LEARNER_SILOS)
        };
        if (config.Validate() is { } problem) { Console.Error.WriteLine(problem); return 2; }
        await using var silo = RolloutSiloHost.Build(config, configureSilo: silo =>
            silo.Services.PostConfigure<GrainTypeOptions>(o => { o.Classes.Remove(typeof(GeneratorGrain)); o.Classes.Add(typeof(InstantGeneratorGrain)); }));
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
        await silo.StartAsync();
        Console.WriteLine($"silo up: 127.0.0.1:{config.SiloPort}, gateway {config.GatewayPort}, instant generators");
        try { await Task.Delay(Timeout.Infinite, stop.Token); }
        catch (OperationCanceledException) { }
        await silo.StopAsync(CancellationToken.None);
        return 0;
    }
}
