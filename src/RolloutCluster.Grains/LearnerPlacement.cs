using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace RolloutCluster.Grains;

/// <summary>
/// Places a learner on a silo that samples nothing (started with <c>--devices none</c>) when the cluster
/// has one, else on any live silo. A learner holds the policy's weights, gradients and optimizer state
/// (16 bytes per fp32 parameter with AdamW): on a silo of its own it does not also hold a generator's
/// replica and weight cache, which on one machine is the difference between fitting and not.
/// </summary>
[GenerateSerializer, Immutable, Alias("rollout.learner-placement")]
public sealed class LearnerPlacementStrategy : PlacementStrategy;

/// <summary>Marks a grain class for <see cref="LearnerPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class LearnerPlacementAttribute() : PlacementAttribute(new LearnerPlacementStrategy());

/// <summary>Prefers silos whose metadata announces no generators (<see cref="SiloRole"/>).</summary>
public sealed class LearnerPlacementDirector(ISiloMetadataCache metadata) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        var learners = silos.Where(s => metadata.GetSiloMetadata(s).Metadata.TryGetValue(SiloRole.GeneratorsKey, out var n) && n == "0").ToArray();
        var from = learners.Length > 0 ? learners : silos;
        return Task.FromResult(from[Random.Shared.Next(from.Length)]);
    }
}

/// <summary>What a silo announces about itself in Orleans' silo metadata, read by placement.</summary>
public static class SiloRole
{
    /// <summary>The number of generator grains the silo hosts, as a decimal string.</summary>
    public const string GeneratorsKey = "rollout.generators";
}
