using System.CommandLine;
using RolloutCluster.Silo;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Cli.Commands;

/// <summary>
/// `rollout silo`: runs one silo until stopped. Settings come from appsettings.json, ROLLOUT__*
/// environment variables and these flags, in that order of precedence.
/// </summary>
public static class SiloCommand
{
    public static Command Create(Io io)
    {
        var redis = new Option<string?>("--redis") { Description = "Redis connection string: cluster with the other silos through it" };
        var dashboardPort = new Option<int?>("--dashboard-port") { Description = "Dashboard and /metrics port (default 8080; 0 = off)" };
        var siloPort = new Option<int?>("--silo-port") { Description = "Silo-to-silo port (default 11111)" };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = "Client gateway port (default 30000)" };
        var listen = new Option<string?>("--listen") { Description = "Address to listen on (default 127.0.0.1)" };
        var advertise = new Option<string?>("--advertise") { Description = "Address other silos reach this one at (default: the listen address)" };
        var devices = new Option<string?>("--devices") { Description = "auto (CUDA devices, else CPU), cpu, or none (no generators: a silo for learners)" };
        var runs = new Option<string?>("--runs-directory") { Description = "Where jobs write runs/<job> unless submitted with a run directory (default runs; a shared volume on several nodes)" };
        var tls = new Option<string?>("--tls-certificate") { Description = "PKCS#12 cluster certificate: TLS between silos and clients, peers must present the same one" };
        var weights = new Option<string?>("--weight-transfer") { Description = "How other silos fetch this silo's learner weights: auto (tcp unless TLS), tcp or grain (chunks through grain calls)" };
        var weightsPort = new Option<int?>("--weight-transfer-port") { Description = "Port of the TCP weight server (default 0: any free port, announced in each manifest)" };
        var command = new Command("silo", "Run a silo of the cluster") { redis, dashboardPort, siloPort, gatewayPort, listen, advertise, devices, runs, tls, weights, weightsPort };
        command.SetAction(async (parse, cancellation) =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set<T>(Option<T> option, string key) { if (parse.GetValue(option) is { } v) overrides[$"Rollout:{key}"] = v.ToString(); }
            Set(redis, "Redis");
            Set(dashboardPort, "DashboardPort");
            Set(siloPort, "SiloPort");
            Set(gatewayPort, "GatewayPort");
            Set(listen, "ListenAddress");
            Set(advertise, "AdvertisedAddress");
            Set(devices, "Devices");
            Set(runs, "RunsDirectory");
            Set(tls, "TlsCertificate");
            Set(weights, "WeightTransfer");
            Set(weightsPort, "WeightTransferPort");
            var config = RolloutSiloHost.ReadConfig(RolloutSiloHost.Configuration([], overrides));
            if (config.Validate() is { } problem) throw new UserInputException(problem);
            if (config.Redis is { } connection && await RedisProbe.CheckAsync(connection, TimeSpan.FromSeconds(10)) is { } unreachable)
                throw new UserInputException(unreachable + " (set by --redis or ROLLOUT__Redis; is redis-server running?)");
            await using var silo = RolloutSiloHost.Build(config);
            await silo.StartAsync(cancellation);
            io.Out.WriteLine($"silo up: {config.ListenAddress}:{config.SiloPort}, gateway {config.GatewayPort}, clustering {(config.Redis is null ? "localhost" : "redis")}" +
                (config.DashboardPort > 0 ? $", dashboard http://{config.ListenAddress}:{config.DashboardPort}/" : ""));
            try { await Task.Delay(Timeout.Infinite, cancellation); }
            catch (OperationCanceledException) { }
            await silo.StopAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }
}
