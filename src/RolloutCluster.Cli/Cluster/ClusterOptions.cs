using System.CommandLine;

namespace RolloutCluster.Cli.Cluster;

/// <summary>The options every cluster verb shares: how to reach the cluster.</summary>
public sealed class ClusterConnectionOptions
{
    public Option<string?> Redis { get; } = new("--cluster") { Description = "Redis connection string of a multi-node cluster (default: the gateway below)" };
    public Option<string> Gateway { get; } = new("--gateway") { Description = "A silo gateway host:port, for a single silo", DefaultValueFactory = _ => "127.0.0.1:30000" };
    public Option<string> ClusterId { get; } = new("--cluster-id") { DefaultValueFactory = _ => "rollout" };
    public Option<string> ServiceId { get; } = new("--service-id") { DefaultValueFactory = _ => "rollout-cluster" };
    public Option<string?> TlsCertificate { get; } = new("--tls-certificate") { Description = "The cluster's PKCS#12 certificate, when its silos use TLS" };

    public void AddTo(Command command)
    {
        command.Options.Add(Redis);
        command.Options.Add(Gateway);
        command.Options.Add(ClusterId);
        command.Options.Add(ServiceId);
        command.Options.Add(TlsCertificate);
    }

    public Task<ClusterClient> ConnectAsync(ParseResult parse, CancellationToken cancellation) =>
        ClusterClient.ConnectAsync(parse.GetValue(Redis), parse.GetValue(Gateway)!, parse.GetValue(ClusterId)!, parse.GetValue(ServiceId)!,
            parse.GetValue(TlsCertificate), cancellation);
}
