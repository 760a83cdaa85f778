using System.Text.Json;
using System.Text.Json.Nodes;

namespace RolloutCluster.Model.Lora;

/// <summary>
/// A LoRA adapter's settings (Hu et al. 2021, arXiv 2106.09685): W' = W + (alpha / r) · B A for each
/// targeted projection, A (r, in) and B (out, r). Read and written as PEFT's adapter_config.json, so
/// adapters made here load in PEFT and PEFT's load here.
/// </summary>
public sealed record LoraConfig(int Rank, double Alpha, double Dropout, IReadOnlyList<string> TargetModules, string? BaseModel = null)
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>The projections an adapter may target, by their Hugging Face names.</summary>
    public static readonly IReadOnlyList<string> Modules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>alpha / r, the factor on B A.</summary>
    public double Scale => Alpha / Rank;

    /// <summary>What is wrong with these settings, or null.</summary>
    public string? Validate()
    {
        if (Rank < 1) return $"rank must be at least 1, found {Rank}";
        if (Alpha <= 0) return $"alpha must be positive, found {Alpha}";
        if (Dropout is < 0 or >= 1) return $"dropout must be in [0, 1), found {Dropout}";
        if (TargetModules.Count == 0) return "target_modules is empty";
        var unknown = TargetModules.FirstOrDefault(m => !Modules.Contains(m));
        return unknown is null ? null : $"unknown target module '{unknown}'; known: {string.Join(", ", Modules)}";
    }

    public void Save(string path)
    {
        var json = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["r"] = Rank,
            ["lora_alpha"] = Alpha,
            ["lora_dropout"] = Dropout,
            ["target_modules"] = new JsonArray([.. TargetModules.Select(m => JsonValue.Create(m))]),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["use_rslora"] = false,
            ["inference_mode"] = true,
            ["base_model_name_or_path"] = BaseModel,
        };
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Reads PEFT's adapter_config.json; settings this implementation does not have are refused by name.</summary>
    public static LoraConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found (a LoRA adapter directory holds adapter_config.json and adapter_model.safetensors)");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ModelFormatException(path, "expected a JSON object"); }
        catch (JsonException e) { throw new ModelFormatException(path, $"not valid JSON: {e.Message}"); }
        string? type = json["peft_type"]?.GetValue<string>();
        if (type != "LORA") throw new ModelFormatException(path, $"peft_type is '{type}'; only LORA adapters are supported");
        if (json["use_rslora"]?.GetValue<bool>() == true) throw new ModelFormatException(path, "use_rslora: rank-stabilised LoRA is not supported");
        if (json["use_dora"]?.GetValue<bool>() == true) throw new ModelFormatException(path, "use_dora: DoRA adapters are not supported");
        if (json["bias"]?.GetValue<string>() is { } bias && bias != "none") throw new ModelFormatException(path, $"bias '{bias}': only bias 'none' is supported");
        var targets = json["target_modules"] switch
        {
            JsonArray a => a.Select(x => x!.GetValue<string>()).ToList(),
            JsonValue v when v.TryGetValue<string>(out var s) => s == "all-linear" ? [.. Modules] : [s],
            _ => throw new ModelFormatException(path, "target_modules is missing"),
        };
        var config = new LoraConfig(json["r"]?.GetValue<int>() ?? throw new ModelFormatException(path, "r is missing"),
            json["lora_alpha"]?.GetValue<double>() ?? 8, json["lora_dropout"]?.GetValue<double>() ?? 0, targets,
            json["base_model_name_or_path"]?.GetValue<string>());
        return config.Validate() is { } problem ? throw new ModelFormatException(path, problem) : config;
    }
}
