using System.Text.Json.Nodes;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Checkpoints;

/// <summary>A model and its tokenizer as loaded from a checkpoint directory.</summary>
public sealed record LoadedModel(CausalLm Model, ITokenizer Tokenizer, ModelConfig Config);

/// <summary>
/// Checkpoints in Hugging Face layout: config.json, model.safetensors, tokenizer.json (plus
/// tokenizer_config.json and generation_config.json so transformers and vLLM load them as they are).
/// </summary>
public static class Checkpoint
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string TokenizerFile = "tokenizer.json";

    /// <summary>Shards of at most 5 GB, as transformers writes by default.</summary>
    public const long DefaultShardBytes = 5_000_000_000;

    /// <summary>Where a LoRA model's checkpoint keeps its adapters (adapter_config.json, adapter_model.safetensors).</summary>
    public const string AdapterDirectory = "adapter";

    /// <summary>
    /// Writes the model (in its own dtype, or saveAs) and tokenizer to dir, replacing what was there;
    /// weights over shardBytes go to shards with model.safetensors.index.json. Extra tensors (a reward
    /// model's head) are written beside the model's, in their own dtype.
    /// </summary>
    public static void Save(string dir, CausalLm model, ITokenizer tokenizer, ScalarType? saveAs = null, long shardBytes = DefaultShardBytes,
        IReadOnlyList<(string Name, Tensor Tensor)>? extra = null)
    {
        Directory.CreateDirectory(dir);
        var dtype = saveAs ?? model.DType;
        var config = model.Config with
        {
            TorchDtype = DTypes.ToConfigName(dtype),
            EosTokenIds = model.Config.EosTokenIds is { Count: > 1 } ids && ids.Contains(tokenizer.EosId) ? ids : [tokenizer.EosId],
            PadTokenId = tokenizer.EosId,
        };
        config.Save(Path.Combine(dir, ConfigFile));
        using (var scope = NewDisposeScope())
        {
            // Under LoRA the checkpoint is the full model with the adapters merged in (it loads without
            // PEFT), and the adapters themselves are kept beside it in adapter/ (PEFT's layout).
            var tensors = model.MergedHfTensors().Select(p => (p.Name, p.Tensor.detach().to(dtype))).Concat(extra?.Select(e => (e.Name, e.Tensor.detach())) ?? []).ToList();
            CheckpointShards.Write(dir, tensors, shardBytes);
        }
        if (model.Lora is not null) model.SaveAdapter(Path.Combine(dir, AdapterDirectory));
        tokenizer.Save(Path.Combine(dir, TokenizerFile));
        var eos = tokenizer.Decode([tokenizer.EosId]);
        // What the model was loaded with (chat template, special tokens, eos id lists) is written back
        // as it was, so transformers renders and stops exactly as before; models made here get ours.
        var tokenizerConfig = tokenizer.Config?.DeepClone() ?? new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["eos_token"] = eos,
            ["pad_token"] = eos,
            ["model_max_length"] = config.MaxPositionEmbeddings,
            ["clean_up_tokenization_spaces"] = false,
        };
        File.WriteAllText(Path.Combine(dir, TokenizerConfigFile), tokenizerConfig.ToJsonString(Indented) + "\n");
        var generation = model.GenerationConfig?.DeepClone() ?? new JsonObject
        {
            ["eos_token_id"] = tokenizer.EosId,
            ["pad_token_id"] = tokenizer.EosId,
            ["transformers_version"] = config.TransformersVersion,
        };
        File.WriteAllText(Path.Combine(dir, GenerationConfigFile), generation.ToJsonString(Indented) + "\n");
    }

    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string GenerationConfigFile = "generation_config.json";

    static readonly System.Text.Json.JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Loads a checkpoint directory into a new model on device with dtype (default: float32). Tensors
    /// stored as bf16/fp16/fp32 are converted. Missing or unexpected tensors and shapes that disagree
    /// with config.json are <see cref="ModelFormatException"/>s naming the tensor and both shapes.
    /// </summary>
    public static LoadedModel Load(string dir, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (!Directory.Exists(dir)) throw new ModelFormatException(dir, "checkpoint directory not found");
        var config = ModelConfig.Load(Path.Combine(dir, ConfigFile));
        var tokenizer = TokenizerJson.Load(Path.Combine(dir, TokenizerFile));
        if (tokenizer.VocabSize > config.VocabSize)
            throw new ModelFormatException(Path.Combine(dir, TokenizerFile),
                $"tokenizer has {tokenizer.VocabSize} ids but config.json's vocab_size is {config.VocabSize}");
        var file = CheckpointShards.Open(dir);
        var model = CausalLm.Create(config, dtype);
        var generationPath = Path.Combine(dir, GenerationConfigFile);
        try
        {
            if (File.Exists(generationPath)) model.GenerationConfig = JsonNode.Parse(File.ReadAllText(generationPath)) as JsonObject;
            LoadWeights(model, file);
            model.to(dtype);
            if (device is not null) model.to(device);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new LoadedModel(model, tokenizer, config);
    }

    /// <summary>Reads the model's tensors from a checkpoint's files, checking names and shapes; names in <paramref name="others"/> belong to someone else (a reward model's head).</summary>
    internal static void LoadWeights(CausalLm model, IReadOnlyDictionary<string, (SafeTensorsFile File, SafeTensorEntry Entry)> files, IReadOnlySet<string>? others = null)
    {
        var parameters = model.HfTensors().ToDictionary(p => p.Name, p => p.Tensor);
        var where = files.Values.Select(f => f.File.Path).Distinct().Count() == 1 ? files.Values.First().File.Path : "the checkpoint's shards";
        foreach (var name in parameters.Keys)
        {
            if (!files.ContainsKey(name))
                throw new ModelFormatException(files.Count > 0 ? where : "model.safetensors", $"missing tensor '{name}' (expected shape [{string.Join(", ", parameters[name].shape)}])");
        }
        foreach (var (name, (file, entry)) in files)
        {
            // Tied models may still carry lm_head.weight (transformers sometimes saves it): it is the embedding.
            if (name == "lm_head.weight" && model.Config.TieWordEmbeddings) continue;
            if (others?.Contains(name) == true) continue;
            if (!parameters.TryGetValue(name, out var p))
                throw new ModelFormatException(file.Path, $"unexpected tensor '{name}' of shape [{string.Join(", ", entry.Shape)}]: config.json's architecture has no such parameter");
            if (!p.shape.SequenceEqual(entry.Shape))
                throw new ModelFormatException(file.Path, $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] but config.json implies [{string.Join(", ", p.shape)}]");
        }
        using var noGrad = no_grad();
        foreach (var (name, p) in parameters)
        {
            using var scope = NewDisposeScope();
            files[name].File.ReadInto(name, p);
        }
    }
}
