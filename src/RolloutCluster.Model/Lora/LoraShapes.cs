using RolloutCluster.Model.Checkpoints;

namespace RolloutCluster.Model.Lora;

/// <summary>The adapter tensors a base architecture takes, by PEFT name and shape, known before any model is built.</summary>
public static class LoraShapes
{
    /// <summary>(in, out) features of each projection an adapter may target.</summary>
    public static (long In, long Out) Features(ModelConfig config, string module)
    {
        long q = (long)config.NumAttentionHeads * config.HeadDim, kv = (long)config.KeyValueHeads * config.HeadDim;
        return module switch
        {
            "q_proj" => (config.HiddenSize, q),
            "k_proj" or "v_proj" => (config.HiddenSize, kv),
            "o_proj" => (q, config.HiddenSize),
            "gate_proj" or "up_proj" => (config.HiddenSize, config.IntermediateSize),
            "down_proj" => (config.IntermediateSize, config.HiddenSize),
            _ => throw new ArgumentException($"unknown target module '{module}'; known: {string.Join(", ", LoraConfig.Modules)}", nameof(module)),
        };
    }

    /// <summary>Every adapter tensor of lora on this architecture: PEFT name → shape.</summary>
    public static Dictionary<string, long[]> Expected(ModelConfig config, LoraConfig lora)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
            foreach (var module in lora.TargetModules)
            {
                var (input, output) = Features(config, module);
                string owner = module is "gate_proj" or "up_proj" or "down_proj" ? "mlp" : "self_attn";
                string prefix = $"base_model.model.model.layers.{layer}.{owner}.{module}";
                shapes[$"{prefix}.lora_A.weight"] = [lora.Rank, input];
                shapes[$"{prefix}.lora_B.weight"] = [output, lora.Rank];
            }
        return shapes;
    }

    /// <summary>
    /// Reads an adapter directory's settings and checks its tensors against the base architecture
    /// without loading them: an adapter made for another base model is refused naming the tensor,
    /// both shapes and the base the adapter names.
    /// </summary>
    public static LoraConfig Check(string dir, ModelConfig config)
    {
        var lora = LoraConfig.Load(Path.Combine(dir, LoraConfig.ConfigFile));
        var path = Path.Combine(dir, LoraConfig.WeightsFile);
        var file = SafeTensorsFile.Open(path);
        var expected = Expected(config, lora);
        string other = lora.BaseModel is { } b ? $" (the adapter names base model '{b}')" : "";
        foreach (var (name, entry) in file.Entries)
        {
            if (!expected.TryGetValue(name, out var shape))
                throw new ModelFormatException(path, $"tensor '{name}' has no place in this base model's adapters ({config.NumHiddenLayers} layers, targets {string.Join(", ", lora.TargetModules)}): an adapter for another base model{other}?");
            if (!shape.SequenceEqual(entry.Shape))
                throw new ModelFormatException(path, $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] but this base model needs [{string.Join(", ", shape)}]: the adapter was made for another base model{other}");
        }
        var missing = expected.Keys.FirstOrDefault(n => !file.Entries.ContainsKey(n));
        return missing is null ? lora : throw new ModelFormatException(path, $"missing tensor '{missing}'");
    }
}
