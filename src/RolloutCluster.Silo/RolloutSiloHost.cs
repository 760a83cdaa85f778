using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting;

namespace RolloutCluster.Silo;

/// <summary>
/// Builds a silo host: Orleans with localhost clustering (one silo) or Redis clustering (several),
/// the rollout grains and services, and, unless its port is 0, a Kestrel listener with the Orleans
/// dashboard at / and Prometheus metrics at /metrics.
/// </summary>
public static class RolloutSiloHost
{
    /// <summary>Reads the "Rollout" configuration section: appsettings.json, then ROLLOUT__* variables, then overrides (flags).</summary>
    public static SiloConfig ReadConfig(IConfiguration configuration) =>
        configuration.GetSection("Rollout").Get<SiloConfig>() ?? new SiloConfig();

    public static IConfiguration Configuration(string[] args, IReadOnlyDictionary<string, string?>? overrides = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile("appsettings.json", optional: true)
            // Unprefixed on purpose: ROLLOUT__Redis becomes ROLLOUT:Redis, which the (case-insensitive)
            // "Rollout" section sees; a prefix filter would strip ROLLOUT__ and leave the key outside it.
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides ?? new Dictionary<string, string?>())
            .Build();

    /// <summary>Builds the host from validated settings; nothing listens until it is started.</summary>
    /// <param name="configureSilo">Extra silo configuration (benchmarks swap grain classes here).</param>
    public static WebApplication Build(SiloConfig config, Action<ILoggingBuilder>? logging = null, Action<ISiloBuilder>? configureSilo = null)
    {
        if (config.Validate() is { } problem) throw new ArgumentException(problem);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        var listen = IPAddress.Parse(config.ListenAddress);
        // Listening on every interface (containers): advertise this host's own address, not 0.0.0.0.
        var advertised = config.AdvertisedIPAddress();
        builder.UseOrleans(silo =>
        {
            if (config.Redis is { } redis)
            {
                silo.UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (config.ClusterId, config.ServiceId));
                // A killed silo refuses connections and is declared dead in a few seconds; probes stay at
                // 2 s because sub-second probing has declared busy (training) silos dead (PLATFORM.md).
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(2);
                    o.NumMissedProbesLimit = 3;
                    o.NumVotesForDeathDeclaration = 2;
                    o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
                    o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
                });
            }
            else silo.UseLocalhostClustering(config.SiloPort, config.GatewayPort, serviceId: config.ServiceId, clusterId: config.ClusterId);
            silo.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = advertised;
                o.SiloPort = config.SiloPort;
                o.GatewayPort = config.GatewayPort;
                o.SiloListeningEndpoint = new IPEndPoint(listen, config.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(listen, config.GatewayPort);
            });
            silo.AddRolloutCluster(config);
            if (config.TlsCertificate is { } path)
            {
                var certificate = ClusterTls.Load(path, config.TlsCertificatePassword);
                silo.UseTls(certificate, o => ClusterTls.Configure(o, certificate));
            }
            if (config.DashboardPort > 0) silo.AddDashboard();
            configureSilo?.Invoke(silo);
        });
        builder.Services.AddHostedService<JobTelemetry>();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(JobTelemetry.MeterName).AddPrometheusExporter());
        if (config.DashboardPort > 0) builder.WebHost.UseKestrel(k => k.Listen(listen, config.DashboardPort));
        else builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        if (config.DashboardPort > 0)
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
            app.MapOrleansDashboard();
        }
        return app;
    }
}
