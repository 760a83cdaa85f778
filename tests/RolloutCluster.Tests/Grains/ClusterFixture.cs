using Orleans.Hosting;
using Orleans.TestingHost;
using RolloutCluster.Abstractions;
using RolloutCluster.Silo;

namespace RolloutCluster.Tests.Grains;

/// <summary>A real two-silo Orleans cluster in this process (TestingHost), with the rollout grains and services on both silos.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public IControlGrain Control => Cluster.GrainFactory.GetGrain<IControlGrain>(0);

    sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo.AddRolloutCluster(new SiloConfig { Devices = "cpu" });
    }

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<Configurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        // Both silos register their generator before a job may count on them.
        for (int i = 0; i < 100 && (await Cluster.GrainFactory.GetGrain<IGeneratorDirectoryGrain>(0).GetAsync()).Count < 2; i++) await Task.Delay(100);
    }

    public async Task DisposeAsync() => await Cluster.StopAllSilosAsync();
}

[CollectionDefinition("cluster")]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>;
