using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;
using RolloutCluster.Abstractions;
using RolloutCluster.Silo;

namespace RolloutCluster.Tests.Grains;

/// <summary>A cluster with a learner silo (<c>--devices none</c>): the learner goes there, the generators elsewhere.</summary>
[Trait("speed", "slow")]   // a cluster of its own and a job on it
public sealed class LearnerSiloTests
{
    sealed class Configurator : ISiloConfigurator
    {
        // TestingHost names its first silo "Primary": that one samples nothing.
        public void Configure(ISiloBuilder silo) =>
            silo.AddRolloutCluster(new SiloConfig { Devices = silo.Configuration["Orleans:Name"] == "Primary" ? "none" : "cpu" });
    }

    [Fact]
    public async Task The_learner_runs_on_the_silo_without_generators_and_the_job_samples_on_the_other()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<Configurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var directory = cluster.GrainFactory.GetGrain<IGeneratorDirectoryGrain>(0);
            for (int i = 0; i < 100 && (await directory.GetAsync()).Count < 1; i++) await Task.Delay(100);
            var primary = cluster.Primary!.SiloAddress;
            Assert.All(await directory.GetAsync(), g => Assert.NotEqual(primary.ToParsableString(), g.Silo));

            var (info, _) = await ClusterJobTests.RunAsync(cluster.GrainFactory.GetGrain<IControlGrain>(0), "learner-silo",
                ClusterJobTests.Job("learner-silo", steps: 2), TimeSpan.FromMinutes(3));
            Assert.True(info.State == JobState.Completed, $"{info.State}: {info.Message}");
            // The job can end between two polls: where its learner lives is asked of the silos' activations.
            var activations = await cluster.GrainFactory.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
            var learnerSilos = activations.Where(a => a.GrainType.Contains(nameof(RolloutCluster.Grains.LearnerGrain), StringComparison.Ordinal)).Select(a => a.SiloAddress).Distinct().ToList();
            Assert.Equal([primary], learnerSilos);
            Assert.Equal(8, info.Groups.Trained);
            Assert.All(info.Groups.BySource.Keys, k => Assert.DoesNotContain(primary.ToParsableString(), k));
        }
        finally { await cluster.StopAllSilosAsync(); }
    }
}
