using RolloutCluster.Model;
using RolloutCluster.Model.Lora;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using TorchSharp;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// A copy of a policy's architecture that loads packed weights versions: the in-process engine's
/// sampler, a generator grain's replica, and the frozen KL reference are all one of these. Loading
/// the version it already holds is free. Under LoRA the replica carries the same adapters: the frozen
/// base is loaded once (<see cref="LoadBase"/>) and each version is the adapters alone.
/// </summary>
public sealed class PolicyReplica(ModelConfig config, torch.ScalarType dtype, torch.Device device, LoraConfig? lora = null) : IDisposable
{
    readonly CausalLm _model = Create(config, dtype, device, lora);

    public CausalLm Model => _model;

    /// <summary>The version loaded (-1 before the first).</summary>
    public long Version { get; private set; } = -1;

    /// <summary>The checksum of the base weights loaded under LoRA (null before the first, and without LoRA).</summary>
    public string? BaseChecksum { get; private set; }

    static CausalLm Create(ModelConfig config, torch.ScalarType dtype, torch.Device device, LoraConfig? lora)
    {
        var model = CausalLm.Create(config, dtype);   // built in its dtype: no float32 copy of a bf16 model
        if (lora is not null) model.AttachLora(lora, seed: 0);   // values come from the versions
        model.eval();                                            // a replica samples: no adapter dropout
        return device.type == DeviceType.CPU ? model : model.to(device);
    }

    /// <summary>Loads the frozen base weights under LoRA unless they are the ones held.</summary>
    public void LoadBase(WeightBuffer buffer, WeightManifest manifest, bool verified = false)
    {
        if (_model.Lora is null) throw new InvalidOperationException("only a LoRA replica has separate base weights");
        if (BaseChecksum == manifest.Checksum) return;
        WeightPack.Unpack(_model, buffer, manifest, verified, name => !CausalLm.IsLora(name));
        BaseChecksum = manifest.Checksum;
    }

    /// <summary>Loads a version unless it is the one held (under LoRA: its adapters). verified: the buffer's checksum was already checked on receipt.</summary>
    public CausalLm Load(long version, WeightBuffer buffer, WeightManifest manifest, bool verified = false)
    {
        if (Version != version)
        {
            if (_model.Lora is not null && BaseChecksum is null) throw new InvalidOperationException("load the base weights before a LoRA version");
            WeightPack.Unpack(_model, buffer, manifest, verified, _model.Lora is null ? null : CausalLm.IsLora);
            Version = version;
        }
        return _model;
    }

    /// <summary>
    /// A frozen copy of a model (no gradients, eval mode; under LoRA the adapters merged into the copy's
    /// weights): the KL reference. Parameters are copied tensor to tensor, so no packed copy of the
    /// whole model exists on the way.
    /// </summary>
    public static PolicyReplica Frozen(CausalLm model)
    {
        var replica = new PolicyReplica(model.Config, model.DType, model.Device);
        using (torch.no_grad())
        using (torch.NewDisposeScope())
        {
            var source = model.MergedParameters();
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
