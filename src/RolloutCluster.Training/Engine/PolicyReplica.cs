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
        var model = CausalLm.Create(config, dtype);   // built in its dtype: no float32 copy of a bf16 model
        return device.type == DeviceType.CPU ? model : model.to(device);
    }

    /// <summary>Loads a version unless it is the one held. verified: the buffer's checksum was already checked on receipt.</summary>
    public CausalLm Load(long version, WeightBuffer buffer, WeightManifest manifest, bool verified = false)
    {
        if (Version != version)
        {
            WeightPack.Unpack(_model, buffer, manifest, verified);
            Version = version;
        }
        return _model;
    }

    /// <summary>
    /// A frozen copy of a model (no gradients, eval mode): the KL reference. Parameters are copied
    /// tensor to tensor, so no packed copy of the whole model exists on the way.
    /// </summary>
    public static PolicyReplica Frozen(CausalLm model)
    {
        var replica = new PolicyReplica(model.Config, model.DType, model.Device);
        using (torch.no_grad())
        {
            var source = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in replica.Model.named_parameters())
            {
                p.copy_(source[name]);
                p.requires_grad = false;
            }
        }
        replica.Version = 0;
        replica.Model.eval();
        return replica;
    }

    public void Dispose() => _model.Dispose();
}
