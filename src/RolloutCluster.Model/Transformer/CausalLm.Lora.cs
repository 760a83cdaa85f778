using System.Text.RegularExpressions;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>LoRA on the model: attaching adapters, their PEFT names, saving, loading and merging them.</summary>
public sealed partial class CausalLm
{
    /// <summary>The attached adapters' settings, or null for a model trained whole.</summary>
    public LoraConfig? Lora { get; private set; }

    /// <summary>Whether a parameter name (ours) belongs to an adapter rather than the base model.</summary>
    public static bool IsLora(string name) => LoraName().IsMatch(name);

    /// <summary>
    /// Attaches adapters to every layer's targeted projections and freezes the base: from now on only
    /// A and B have gradients. Seeded like <see cref="InitializeWeights"/>.
    /// </summary>
    public void AttachLora(LoraConfig config, long seed)
    {
        if (config.Validate() is { } problem) throw new ArgumentException(problem, nameof(config));
        if (Lora is not null) throw new InvalidOperationException("the model already has LoRA adapters");
        var generator = new Generator((ulong)seed);
        foreach (var p in parameters()) p.requires_grad = false;
        foreach (var layer in _model.Layers) layer.AttachLora(config, generator);
        if (Device.type != DeviceType.CPU) this.to(Device);   // the adapters were made on the CPU
        Lora = config;
    }

    /// <summary>The parameters an optimizer should update: the adapters under LoRA, all of them otherwise.</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);

    /// <summary>The adapters' tensors with PEFT's names (base_model.model.….q_proj.lora_A.weight), as views into the parameters.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> LoraTensors() =>
        named_parameters().Where(p => IsLora(p.name)).Select(p => (ToPeft(p.name), (Tensor)p.parameter));

    static string ToPeft(string name)
    {
        var m = LoraName().Match(name);
        return $"base_model.model.{m.Groups["prefix"].Value}.{m.Groups["part"].Value}.lora_{m.Groups["ab"].Value}.weight";
    }

    /// <summary>Writes the adapters as PEFT does: adapter_config.json and adapter_model.safetensors.</summary>
    public void SaveAdapter(string dir, string? baseModel = null)
    {
        var config = Lora ?? throw new InvalidOperationException("the model has no LoRA adapters to save");
        Directory.CreateDirectory(dir);
        (config with { BaseModel = baseModel ?? config.BaseModel }).Save(Path.Combine(dir, LoraConfig.ConfigFile));
        SafeTensorsFile.Write(Path.Combine(dir, LoraConfig.WeightsFile), LoraTensors().ToList());
    }

    /// <summary>
    /// Loads adapter weights saved by PEFT or <see cref="SaveAdapter"/> into the attached adapters.
    /// An adapter made for another base model is refused naming the tensor, both shapes and the base
    /// the adapter names; nothing is written unless every tensor fits.
    /// </summary>
    public void LoadAdapter(string dir)
    {
        var config = Lora ?? throw new InvalidOperationException("attach adapters (AttachLora) before loading their weights");
        var saved = LoraShapes.Check(dir, Config);
        if (saved.Rank != config.Rank || !saved.TargetModules.Order().SequenceEqual(config.TargetModules.Order()))
            throw new ModelFormatException(Path.Combine(dir, LoraConfig.ConfigFile),
                $"rank {saved.Rank} on {string.Join(", ", saved.TargetModules)}, but the model's adapters are rank {config.Rank} on {string.Join(", ", config.TargetModules)}");
        var file = SafeTensorsFile.Open(Path.Combine(dir, LoraConfig.WeightsFile));
        using var noGrad = no_grad();
        foreach (var (name, target) in LoraTensors()) file.ReadInto(name, target);
    }

    /// <summary>
    /// Every tensor as Hugging Face names it with the adapters merged in (W + scale · B A), for saving a
    /// full checkpoint that loads without PEFT; the model itself is left as it is.
    /// </summary>
    public IEnumerable<(string Name, Tensor Tensor)> MergedHfTensors() => HfTensors(MergedParameters().Select(p => (p.Key, p.Value)));

    /// <summary>
    /// The base parameters by our names with the adapters merged in: new tensors where an adapter adds
    /// to the weight, the parameters themselves elsewhere (and everywhere without LoRA).
    /// </summary>
    public Dictionary<string, Tensor> MergedParameters()
    {
        var tensors = named_parameters().Where(p => !IsLora(p.name)).ToDictionary(p => p.name, p => (Tensor)p.parameter);
        if (Lora is null) return tensors;
        using (no_grad())
        {
            for (int i = 0; i < _model.Layers.Count; i++)
                foreach (var (lora, weight) in _model.Layers[i].Adapters())
                {
                    string name = $"model.layers.{i}.{weight}";
                    var copy = tensors[name].detach().clone();
                    foreach (var (offset, rows, delta) in lora.Deltas()) copy.narrow(0, offset, rows).add_(delta.to(copy.dtype));
                    tensors[name] = copy;
                }
        }
        return tensors;
    }

    [GeneratedRegex(@"^(?<prefix>.+)\.(qkv_lora|o_lora|gate_up_lora|down_lora)\.(?<part>\w+)\.(?<ab>A|B)$")]
    private static partial Regex LoraName();
}
