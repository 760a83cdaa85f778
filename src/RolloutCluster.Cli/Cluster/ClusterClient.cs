using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using RolloutCluster.Abstractions;

namespace RolloutCluster.Cli.Cluster;

/// <summary>
/// An Orleans client for the cluster verbs: through Redis clustering (--cluster) or straight to a
/// gateway (--gateway, default 127.0.0.1:30000, the embedded and single-silo default).
/// </summary>
public sealed class ClusterClient : IAsyncDisposable
{
    readonly IHost _host;

    ClusterClient(IHost host) => _host = host;

    public IControlGrain Control => _host.Services.GetRequiredService<IClusterClient>().GetGrain<IControlGrain>(0);

    /// <param name="responseTimeout">How long a call may go unanswered (Orleans' default 30 s); a caller
    /// polling status across silo failures wants it short, since a call to a gateway that just died waits it out.</param>
    public static async Task<ClusterClient> ConnectAsync(string? redis, string gateway, string clusterId, string serviceId, string? tlsCertificate,
        CancellationToken cancellation, TimeSpan? responseTimeout = null)
    {
        if (redis is not null && await Silo.RedisProbe.CheckAsync(redis, TimeSpan.FromSeconds(10)) is { } unreachable) throw new UserInputException(unreachable);
        if (tlsCertificate is not null && !File.Exists(tlsCertificate)) throw new UserInputException($"--tls-certificate: file not found: {tlsCertificate}");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        builder.UseOrleansClient(client =>
        {
            if (redis is not null) client.UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
            else client.UseStaticClustering(ParseGateway(gateway));
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId));
            // A dead gateway is dropped in seconds, not the default minute (PLATFORM.md).
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            if (responseTimeout is { } timeout) client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = timeout);
            if (tlsCertificate is not null)
            {
                var certificate = Silo.ClusterTls.Load(tlsCertificate, null);
                client.UseTls(certificate, o => Silo.ClusterTls.Configure(o, certificate));
            }
        });
        var host = builder.Build();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await host.StartAsync(deadline.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or OrleansException or SiloUnavailableException or TimeoutException or StackExchange.Redis.RedisException)
        {
            host.Dispose();
            throw new UserInputException($"cannot reach the cluster ({(redis is not null ? $"Redis {redis}" : $"gateway {gateway}")}): {e.Message.Split('\n')[0]}");
        }
        return new ClusterClient(host);
    }

    static IPEndPoint ParseGateway(string text) =>
        IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port > 0 ? endpoint
            : throw new UserInputException($"--gateway: expected host:port (an IP address and a port), found \"{text}\"");

    public async ValueTask DisposeAsync()
    {
        try { await _host.StopAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception e) when (e is OrleansException or OperationCanceledException) { }
        _host.Dispose();
    }
}
