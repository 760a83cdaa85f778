using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using RolloutCluster.Silo;
using YamlDotNet.RepresentationModel;

namespace RolloutCluster.Tests.Deployment;

/// <summary>
/// No Docker engine runs on these machines, so docker-compose.yml and cluster/Dockerfile are checked
/// for structure: the services, what they mount and reserve, and that every ROLLOUT__ setting they
/// pass is one the silo knows and accepts.
/// </summary>
public sealed partial class ComposeFileTests
{
    static readonly YamlMappingNode Compose = Load();

    static YamlMappingNode Load()
    {
        using var reader = new StringReader(File.ReadAllText(RepoPaths.Of("docker-compose.yml")));
        var stream = new YamlStream();
        stream.Load(reader);
        return (YamlMappingNode)Merge(stream.Documents[0].RootNode);
    }

    /// <summary>Resolves YAML merge keys (<c>&lt;&lt;: *anchor</c>) as compose does: explicit keys override merged ones.</summary>
    static YamlNode Merge(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var merged = new YamlMappingNode();
                if (mapping.Children.TryGetValue(new YamlScalarNode("<<"), out var source))
                    foreach (var kv in ((YamlMappingNode)Merge(source)).Children) merged.Children[kv.Key] = kv.Value;
                foreach (var kv in mapping.Children.Where(kv => Text(kv.Key) != "<<")) merged.Children[kv.Key] = Merge(kv.Value);
                return merged;
            case YamlSequenceNode sequence:
                return new YamlSequenceNode(sequence.Children.Select(Merge));
            default:
                return node;
        }
    }

    static YamlMappingNode Service(string name) => (YamlMappingNode)((YamlMappingNode)Compose["services"])[name];

    static YamlNode? At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
            if (node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var next)) node = next;
            else return null;
        return node;
    }

    static string Text(YamlNode? node) => node is YamlScalarNode s ? s.Value ?? "" : throw new Xunit.Sdk.XunitException($"expected a scalar, found {node}");

    static Dictionary<string, string> Environment(string service) =>
        ((YamlMappingNode)At(Service(service), "environment")!).Children.ToDictionary(kv => Text(kv.Key), kv => Text(kv.Value));

    /// <summary>${NAME:-default} as compose expands it with NAME unset.</summary>
    static string Expand(string value) => DefaultVariable().Replace(value, m => m.Groups[1].Value);

    [GeneratedRegex(@"\$\{[A-Z_]+:-([^}]*)\}")]
    private static partial Regex DefaultVariable();

    [Theory]
    [InlineData("silo")]
    [InlineData("silo-gpu")]
    public void Every_silo_setting_is_one_the_silo_knows_and_accepts(string service)
    {
        var environment = Environment(service);
        var known = typeof(SiloConfig).GetProperties().Select(p => p.Name).ToHashSet();
        Assert.All(environment.Keys, key => Assert.True(key.StartsWith("ROLLOUT__") && known.Contains(key["ROLLOUT__".Length..]), $"{service}: {key} is not a SiloConfig setting"));
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(kv => KeyValuePair.Create<string, string?>("Rollout:" + kv.Key["ROLLOUT__".Length..], Expand(kv.Value))))
            .Build();
        var config = RolloutSiloHost.ReadConfig(configuration);
        Assert.Null(config.Validate());
        Assert.Equal("redis", config.Redis!.Split(':')[0]);                 // the compose service, by its DNS name
        Assert.Equal("0.0.0.0", config.ListenAddress);                       // reachable from the other containers
        Assert.Contains(Text(At(Service(service), "depends_on", "redis", "condition")), "service_healthy");
        // The runs directory is the shared volume, so a learner restarted on another silo finds its checkpoints.
        var mounts = ((YamlSequenceNode)At(Service(service), "volumes")!).Select(Text).ToList();
        Assert.Contains($"runs:{config.RunsDirectory}", mounts);
        // The dashboard port inside the container is the one published.
        var ports = ((YamlSequenceNode)At(Service(service), "ports")!).Select(Text).ToList();
        Assert.Contains(ports, p => p.EndsWith($":{config.DashboardPort}", StringComparison.Ordinal) && p.StartsWith("127.0.0.1:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_cpu_silo_scales_and_the_gpu_silo_reserves_nvidia_devices()
    {
        Assert.True(int.Parse(Text(At(Service("silo"), "deploy", "replicas"))) >= 2);
        Assert.Equal("cpu", Text(At(Service("silo"), "build", "args", "TORCH_BACKEND")));
        var gpu = Service("silo-gpu");
        Assert.Equal("gpu", Text(((YamlSequenceNode)At(gpu, "profiles")!)[0]));
        Assert.Equal("cuda", Text(At(gpu, "build", "args", "TORCH_BACKEND")));
        var device = (YamlMappingNode)((YamlSequenceNode)At(gpu, "deploy", "resources", "reservations", "devices")!)[0];
        Assert.Equal("nvidia", Text(At(device, "driver")));
        Assert.Contains("gpu", ((YamlSequenceNode)At(device, "capabilities")!).Select(Text));
        Assert.Equal("auto", Environment("silo-gpu")["ROLLOUT__Devices"]);
        Assert.Equal("service_healthy", Text(At(gpu, "depends_on", "redis", "condition")));
    }

    [Fact]
    public void Redis_keeps_its_data_on_a_volume_and_reports_health()
    {
        var redis = Service("redis");
        Assert.StartsWith("redis:", Text(At(redis, "image")));
        Assert.Contains("--appendonly", ((YamlSequenceNode)At(redis, "command")!).Select(Text));
        Assert.NotNull(At(redis, "healthcheck", "test"));
        var declared = ((YamlMappingNode)Compose["volumes"]).Children.Keys.Select(Text).ToHashSet();
        Assert.Contains("runs", declared);
        Assert.Contains("redis-data", declared);
    }

    [Fact]
    public void The_dockerfile_builds_from_files_that_exist_with_a_backend_the_build_accepts()
    {
        var dockerfile = Text(At(Service("silo"), "build", "dockerfile"));
        var lines = File.ReadAllLines(RepoPaths.Of(dockerfile));
        foreach (var copy in lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from", StringComparison.Ordinal)))
        {
            var sources = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1];
            Assert.All(sources, s => Assert.True(File.Exists(RepoPaths.Of(s)) || Directory.Exists(RepoPaths.Of(s)), $"{dockerfile}: {copy}: {s} does not exist"));
        }
        Assert.Contains(lines, l => l.Trim() == "ARG TORCH_BACKEND=cpu");
        Assert.Contains(lines, l => l.Contains("-p:TorchBackend=${TORCH_BACKEND}", StringComparison.Ordinal));
        var targets = File.ReadAllText(RepoPaths.Of("build", "LibTorch.targets"));
        foreach (var backend in new[] { "cpu", "cuda" }) Assert.Contains($"'$(TorchBackend)' == '{backend}'", targets);
        Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal) && l.Contains("rollout", StringComparison.Ordinal));
    }
}
