using RolloutCluster.Model;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using TorchSharp;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// A copy of a policy's architecture that loads packed weights versions: the in-process engine's
/// sampler, a generator grain's replica, and the frozen KL reference are all one of these. Loading
/// the version it already holds is free.
/// </summary>
public sealed class PolicyReplica(ModelConfig config, torch.ScalarType dtype, torch.Device device) : IDisposable
{
    readonly CausalLm _model = Create(config, dtype, device);

    public CausalLm Model => _model;

    /// <summary>The version loaded (-1 before the first).</summary>
    public long Version { get; private set; } = -1;

    static CausalLm Create(ModelConfig config, torch.ScalarType dtype, torch.Device device)
    {
        var model = new CausalLm(config);
        model.to(dtype).to(device);
        return model;
    }

    /// <summary>Loads a version unless it is the one held. verified: the buffer's checksum was already checked on receipt.</summary>
    public CausalLm Load(long version, byte[] buffer, WeightManifest manifest, bool verified = false)
    {
        if (Version != version)
        {
            WeightPack.Unpack(_model, buffer, manifest, verified);
            Version = version;
        }
        return _model;
    }

    /// <summary>A frozen copy of a model (no gradients, eval mode), made through the weight-packing path: the KL reference.</summary>
    public static PolicyReplica Frozen(CausalLm model)
    {
        var replica = new PolicyReplica(model.Config, model.DType, model.Device);
        var (buffer, manifest) = WeightPack.Pack(model);
        replica.Load(0, buffer, manifest);
        foreach (var p in replica.Model.parameters()) p.requires_grad = false;
        replica.Model.eval();
        return replica;
    }

    public void Dispose() => _model.Dispose();
}
