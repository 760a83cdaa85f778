using System.Text.Json;
using System.Text.Json.Serialization;

namespace RolloutCluster.Model;

/// <summary>
/// The architecture of a decoder-only transformer, spelled as Hugging Face's config.json spells it
/// for model_type "qwen2" (q/k/v bias), "qwen3" (RMS norms on each head's queries and keys, explicit
/// head_dim, no bias) and "llama" (optional bias, rope_scaling), so checkpoints move both ways.
/// </summary>
public sealed record ModelConfig
{
    [JsonPropertyName("architectures")] public IReadOnlyList<string> Architectures { get; init; } = ["Qwen2ForCausalLM"];
    [JsonPropertyName("model_type"), JsonRequired] public string ModelType { get; init; } = "qwen2";
    [JsonPropertyName("hidden_size"), JsonRequired] public int HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size"), JsonRequired] public int IntermediateSize { get; init; }
    [JsonPropertyName("num_hidden_layers"), JsonRequired] public int NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads"), JsonRequired] public int NumAttentionHeads { get; init; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeads { get; init; }
    [JsonPropertyName("head_dim")] public int? HeadDimOverride { get; init; }
    [JsonPropertyName("vocab_size"), JsonRequired] public int VocabSize { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    /// <summary>Llama's switch for q/k/v/o bias; qwen2 always has q/k/v bias and no o bias.</summary>
    [JsonPropertyName("attention_bias")] public bool? AttentionBias { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("torch_dtype")] public string TorchDtype { get; init; } = "float32";
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }
    /// <summary>End-of-sequence ids: one, or a list (Llama 3.1/3.2 and Qwen configs stop on several).</summary>
    [JsonPropertyName("eos_token_id"), JsonConverter(typeof(IdListConverter))] public IReadOnlyList<int>? EosTokenIds { get; init; }
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;
    [JsonPropertyName("rope_scaling")] public JsonElement? RopeScaling { get; init; }
    [JsonPropertyName("use_sliding_window")] public bool UseSlidingWindow { get; init; }
    [JsonPropertyName("attention_dropout")] public double AttentionDropout { get; init; }
    [JsonPropertyName("transformers_version")] public string TransformersVersion { get; init; } = "4.45.0";

    [JsonIgnore] public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;
    [JsonIgnore] public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;
    [JsonIgnore] public bool QkvBias => ModelType == "qwen2" || AttentionBias == true;
    [JsonIgnore] public bool OutputBias => ModelType is "llama" or "qwen3" && AttentionBias == true;
    [JsonIgnore] public bool QkNorm => ModelType == "qwen3";

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Reads and validates a config.json; any problem is a <see cref="ModelFormatException"/> naming the file.</summary>
    public static ModelConfig Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new ModelFormatException(path, "file not found");
        ModelConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<ModelConfig>(System.IO.File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, e.Message);
        }
        if (config is null) throw new ModelFormatException(path, "expected a JSON object, found null");
        var problem = config.Validate();
        if (problem is not null) throw new ModelFormatException(path, problem);
        return config;
    }

    /// <summary>Writes this configuration as config.json.</summary>
    public void Save(string path) => System.IO.File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Returns what is wrong with the configuration, naming the field, or null when it is usable.</summary>
    public string? Validate()
    {
        if (ModelType is not ("qwen2" or "qwen3" or "llama"))
            return $"field 'model_type' is \"{ModelType}\"; supported: \"qwen2\", \"qwen3\", \"llama\"";
        foreach (var (name, value) in new[]
                 {
                     ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize),
                     ("num_hidden_layers", NumHiddenLayers), ("num_attention_heads", NumAttentionHeads),
                     ("num_key_value_heads", KeyValueHeads), ("vocab_size", VocabSize),
                     ("max_position_embeddings", MaxPositionEmbeddings),
                 })
        {
            if (value <= 0) return $"field '{name}' must be a positive integer, found {value}";
        }
        if (HeadDimOverride is null && HiddenSize % NumAttentionHeads != 0)
            return $"field 'hidden_size' ({HiddenSize}) must be divisible by 'num_attention_heads' ({NumAttentionHeads})";
        if (HeadDim % 2 != 0) return $"head dimension {HeadDim} must be even for rotary embeddings";
        if (NumAttentionHeads % KeyValueHeads != 0)
            return $"field 'num_attention_heads' ({NumAttentionHeads}) must be a multiple of 'num_key_value_heads' ({KeyValueHeads})";
        if (HiddenAct != "silu") return $"field 'hidden_act' is \"{HiddenAct}\"; only \"silu\" is supported";
        if (Transformer.RopeScaling.Validate(this) is { } rope) return rope;
        if (UseSlidingWindow) return "field 'use_sliding_window' is true; sliding-window attention is not supported";
        if (RmsNormEps <= 0) return $"field 'rms_norm_eps' must be positive, found {RmsNormEps}";
        if (RopeTheta <= 0) return $"field 'rope_theta' must be positive, found {RopeTheta}";
        return null;
    }

    /// <summary>Number of parameters this architecture holds (tied embeddings counted once).</summary>
    public long ParameterCount()
    {
        long h = HiddenSize, kv = (long)KeyValueHeads * HeadDim, q = (long)NumAttentionHeads * HeadDim;
        long attention = h * q + 2 * h * kv + q * h + (QkvBias ? q + 2 * kv : 0) + (OutputBias ? h : 0) + (QkNorm ? 2L * HeadDim : 0);
        long mlp = 3 * h * IntermediateSize;
        long layer = attention + mlp + 2 * h;
        return NumHiddenLayers * layer + VocabSize * h * (TieWordEmbeddings ? 1 : 2) + h;
    }
}

/// <summary>Reads an id or a list of ids (config.json's eos_token_id is either); writes one id as a number.</summary>
public sealed class IdListConverter : JsonConverter<IReadOnlyList<int>?>
{
    public override IReadOnlyList<int>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => [reader.GetInt32()],
        JsonTokenType.StartArray => JsonSerializer.Deserialize<List<int>>(ref reader, options),
        _ => throw new JsonException($"expected an id or a list of ids, found {reader.TokenType}"),
    };

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<int>? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else if (value.Count == 1) writer.WriteNumberValue(value[0]);
        else JsonSerializer.Serialize(writer, value, options);
    }
}
