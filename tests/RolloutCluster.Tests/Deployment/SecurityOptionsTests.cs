using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RolloutCluster.Cli;
using RolloutCluster.Cli.Cluster;
using RolloutCluster.Silo;

namespace RolloutCluster.Tests.Deployment;

/// <summary>Redis authentication through the connection string, and TLS with a cluster certificate between a silo and its clients.</summary>
[Collection("processes")]
[Trait("speed", "slow")]   // several processes: `./test.sh --filter "speed!=slow"` runs the fast tests alone
public sealed class SecurityOptionsTests
{
    [Fact]
    public async Task A_password_in_the_connection_string_reaches_redis_and_a_missing_one_is_named()
    {
        int port = LoopbackPorts.Free();
        var dir = TinyModels.TempDir();
        using var redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(), "--bind", "127.0.0.1", "--requirepass", "s3cret", "--save", "", "--dir", dir])
            { RedirectStandardOutput = true })!;
        try
        {
            string? problem = "not tried";
            for (int i = 0; i < 50 && problem is not null; i++)
            {
                problem = await RedisProbe.CheckAsync($"127.0.0.1:{port},password=s3cret", TimeSpan.FromSeconds(2));
                if (problem is not null) await Task.Delay(100);
            }
            Assert.Null(problem);
            var refused = await RedisProbe.CheckAsync($"127.0.0.1:{port}", TimeSpan.FromSeconds(2));
            Assert.NotNull(refused);
            Assert.Contains($"cannot reach Redis at 127.0.0.1:{port}", refused);
            Assert.Contains("auth", refused, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            redis.Kill();
        }
    }

    static string ClusterCertificate(string dir)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=rollout-cluster", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var path = Path.Combine(dir, "cluster.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx));
        return path;
    }

    [Fact]
    public async Task With_a_cluster_certificate_only_clients_presenting_it_get_through()
    {
        var dir = TinyModels.TempDir();
        var certificate = ClusterCertificate(dir);
        int gateway = LoopbackPorts.Free();
        var config = new SiloConfig { SiloPort = LoopbackPorts.Free(), GatewayPort = gateway, DashboardPort = 0, Devices = "cpu", TlsCertificate = certificate };
        await using var silo = RolloutSiloHost.Build(config);
        await silo.StartAsync();
        try
        {
            await using (var client = await ClusterClient.ConnectAsync(null, $"127.0.0.1:{gateway}", config.ClusterId, config.ServiceId, certificate, CancellationToken.None))
                Assert.Empty(await client.Control.ListAsync());
            var other = ClusterCertificate(TinyModels.TempDir());
            await Assert.ThrowsAsync<UserInputException>(async () =>
            {
                await using var intruder = await ClusterClient.ConnectAsync(null, $"127.0.0.1:{gateway}", config.ClusterId, config.ServiceId, other, CancellationToken.None);
                await intruder.Control.ListAsync();
            });
        }
        finally
        {
            await silo.StopAsync();
        }
    }
}
