using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;
using RolloutCluster.Grains;
using RolloutCluster.Rewards.Sandbox;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Silo;

/// <summary>What every silo of the cluster registers, real or under TestingHost: placement, the weight cache, rewards, devices.</summary>
public static class RolloutSiloServices
{
    public static ISiloBuilder AddRolloutCluster(this ISiloBuilder silo, SiloConfig config)
    {
        silo.AddPlacementDirector<SiloKeyedPlacementStrategy, SiloKeyedPlacementDirector>();
        silo.AddPlacementDirector<LearnerPlacementStrategy, LearnerPlacementDirector>();
        var devices = SiloDevices.Discover(config.Devices);
        silo.UseSiloMetadata(new Dictionary<string, string> { [SiloRole.GeneratorsKey] = devices.Devices.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        silo.Services.AddSingleton(TimeProvider.System);
        // Job state: in Redis beside the membership table when the cluster has one, so it outlives any silo.
        if (config.Redis is { } redis) silo.AddRedisGrainStorage(RolloutStorage.Name, o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
        else silo.AddMemoryGrainStorage(RolloutStorage.Name);
        silo.Services.AddSingleton(new LearnerOptions(config.RunsDirectory));
        silo.Services.AddSingleton<WeightBufferPool>();
        silo.Services.AddSingleton<PublishedWeights>();
        silo.Services.AddSingleton<WeightCache>();
        silo.Services.AddSingleton(config.ServesWeightsOverTcp
            ? new WeightTransferOptions(true, System.Net.IPAddress.Parse(config.ListenAddress), config.AdvertisedIPAddress(), config.WeightTransferPort)
            : WeightTransferOptions.Off);
        silo.Services.AddHostedService<WeightServer>();
        silo.Services.AddSingleton<GeneratorActivity>();
        silo.Services.AddSingleton(devices);
        silo.Services.AddSingleton(new SandboxOptions
        {
            Isolation = config.SandboxIsolation switch { "none" => SandboxIsolation.None, "no-cgroups" => SandboxIsolation.NoCgroups, _ => SandboxIsolation.Full },
            Lanes = config.SandboxLanes > 0 ? config.SandboxLanes : Math.Max(1, Environment.ProcessorCount),
        });
        // The silo's one reward factory, with this silo's sandbox settings and reward models (on its
        // first device, loaded when a job's `model` reward first asks): every verifier uses it.
        silo.Services.AddSingleton(_ => new RolloutCluster.Training.Engine.RewardModelScorers(devices.Devices.FirstOrDefault()));
        silo.Services.AddSingleton(sp => new RolloutCluster.Rewards.RewardSets(sp.GetRequiredService<SandboxOptions>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("RolloutCluster.Sandbox"),
            sp.GetRequiredService<RolloutCluster.Training.Engine.RewardModelScorers>()));
        silo.Services.AddHostedService<GeneratorRegistration>();
        silo.Services.AddHostedService<JobKeeper>();
        return silo;
    }
}
