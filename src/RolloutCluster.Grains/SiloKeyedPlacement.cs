using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace RolloutCluster.Grains;

/// <summary>
/// Places a grain whose key starts with a silo's address ("10.0.0.5:11111@123/cpu") on that silo, so
/// each silo's generators live where its devices are; if that silo is gone, on a random live one.
/// </summary>
[GenerateSerializer, Immutable, Alias("rollout.silo-keyed-placement")]
public sealed class SiloKeyedPlacementStrategy : PlacementStrategy;

/// <summary>Marks a grain class for <see cref="SiloKeyedPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloKeyedPlacementAttribute() : PlacementAttribute(new SiloKeyedPlacementStrategy());

/// <summary>Chooses the silo named in the grain key.</summary>
public sealed class SiloKeyedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var owner = silos.FirstOrDefault(s => key.StartsWith(s.ToParsableString() + "/", StringComparison.Ordinal));
        return Task.FromResult(owner ?? silos[Random.Shared.Next(silos.Length)]);
    }
}
