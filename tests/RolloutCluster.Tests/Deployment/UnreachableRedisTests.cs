using System.Diagnostics;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Tests.Deployment;

/// <summary>A silo or client pointed at a Redis that does not answer says so and exits, instead of retrying forever.</summary>
[Collection("processes")]
[Trait("speed", "slow")]   // several processes: `./test.sh --filter "speed!=slow"` runs the fast tests alone
public sealed class UnreachableRedisTests
{
    [Theory]
    [InlineData("silo", "--dashboard-port", "0")]
    [InlineData("list")]
    public void An_unreachable_redis_is_a_clear_error_within_30_seconds(string verb, params string[] extra)
    {
        string redis = $"127.0.0.1:{RolloutCluster.Silo.LoopbackPorts.Free()}";   // free, so nothing listens there
        string[] args = verb == "silo" ? ["silo", "--redis", redis, .. extra] : [verb, "--cluster", redis, .. extra];
        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = ProcessRunner.Run(LocalCluster.Cli[0], [.. LocalCluster.Cli[1..], .. args], timeout: TimeSpan.FromSeconds(60));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.NotEqual(0, code);
        Assert.Contains($"cannot reach Redis at {redis}", stderr + stdout);
    }

    [Fact]
    public void Settings_from_ROLLOUT_environment_variables_reach_the_silo_and_are_validated()
    {
        // The way docker-compose.yml and cluster/Dockerfile configure silos: a bad value must be refused by name.
        var (code, stdout, stderr) = ProcessRunner.Run(LocalCluster.Cli[0], [.. LocalCluster.Cli[1..], "silo", "--dashboard-port", "0"],
            timeout: TimeSpan.FromSeconds(60), environment: new Dictionary<string, string> { ["ROLLOUT__WeightTransfer"] = "bogus" });
        Assert.NotEqual(0, code);
        Assert.Contains("Rollout:WeightTransfer must be auto, tcp or grain, found \"bogus\"", stderr + stdout);
    }
}
