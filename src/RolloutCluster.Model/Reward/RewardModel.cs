using System.Text.Json.Nodes;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Reward;

/// <summary>
/// An outcome reward model: a policy's decoder under a scalar head that reads the hidden state of
/// the last token of (prompt, completion), as Hugging Face's &lt;Family&gt;ForSequenceClassification
/// with num_labels 1 does (model.* tensors, score.weight (1, C), no LM head). The score is a logit:
/// sigmoid(score) estimates the probability that the completion is correct.
/// </summary>
public sealed class RewardModel : nn.Module
{
    public const string HeadTensor = "score.weight";

    /// <summary>Beside the weights: what of a completion the model was trained to read ({"scope": "trace" | "answer"}).</summary>
    public const string SettingsFile = "reward_model.json";

    readonly CausalLm _backbone;
    readonly Linear _score;

    /// <summary>A reward model of config's shape with a head drawn from N(0, initializer_range²) by seed.</summary>
    public RewardModel(ModelConfig config, long seed = 0) : base(nameof(RewardModel))
    {
        // Only hidden states are read: tied, so the backbone has no separate LM head to carry.
        _backbone = new CausalLm(config with { TieWordEmbeddings = true });
        _score = nn.Linear(config.HiddenSize, 1, hasBias: false, dtype: ScalarType.Float32);
        using (no_grad())
        {
            var generator = new Generator((ulong)seed);
            _score.weight!.copy_(normal(0, config.InitializerRange, [1, config.HiddenSize], generator: generator));
        }
        register_module("backbone", _backbone);
        register_module("score", _score);
    }

    public ModelConfig Config => _backbone.Config;

    /// <summary>A reward model starting from a policy's weights (the usual start: it already reads the task).</summary>
    public static RewardModel FromPolicy(CausalLm policy, long seed)
    {
        var model = new RewardModel(policy.Config, seed);
        var target = model._backbone.HfTensors().ToDictionary(t => t.Name, t => t.Tensor);
        using var noGrad = no_grad();
        foreach (var (name, tensor) in policy.MergedHfTensors())
            if (target.TryGetValue(name, out var destination)) destination.copy_(tensor);
        return model;
    }

    /// <summary>
    /// Scores rows of (prompt, completion) token ids, left-padded to a common length so that every
    /// row's last token sits in the last slot. Returns logits (B) float32.
    /// </summary>
    public Tensor Score(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int padId)
    {
        if (prompts.Count != completions.Count || prompts.Count == 0) throw new ArgumentException($"{prompts.Count} prompts and {completions.Count} completions");
        int batch = prompts.Count;
        var (ids, valid, total) = AttentionMask.LeftPad(prompts, completions, padId);
        if (total == 0) throw new ArgumentException("every row is empty");
        var device = _backbone.Device;
        using var scope = NewDisposeScope();
        var input = tensor(ids, [batch, total], device: device);                                       // (B, T)
        var validT = tensor(valid, [batch, total], device: device);                                     // (B, T)
        var mask = valid.Any(v => !v) ? AttentionMask.Build(validT, 0, total) : null;                  // (B, 1, T, T)
        var hidden = _backbone.Hidden(input, AttentionMask.Positions(validT), mask);                   // (B, T, C)
        var last = hidden.select(1, total - 1).to(ScalarType.Float32);                                  // (B, C)
        return _score.forward(last).squeeze(1).MoveToOuterDisposeScope();                               // (B)
    }

    /// <summary>What of a completion the model reads: "trace" (all of it) or "answer" (its final answer).</summary>
    public string Scope { get; set; } = "trace";

    /// <summary>Writes the model in ForSequenceClassification layout (config.json names it, with num_labels 1) with its tokenizer and scope.</summary>
    public void Save(string dir, ITokenizer tokenizer)
    {
        Checkpoint.Save(dir, _backbone, tokenizer, extra: [(HeadTensor, _score.weight!)]);
        string configPath = Path.Combine(dir, Checkpoint.ConfigFile);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["architectures"] = new JsonArray([.. Config.Architectures.Select(a => (JsonNode?)a.Replace("ForCausalLM", "ForSequenceClassification", StringComparison.Ordinal))]);
        config["num_labels"] = 1;
        File.WriteAllText(configPath, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.WriteAllText(Path.Combine(dir, SettingsFile), new JsonObject { ["scope"] = Scope }.ToJsonString() + "\n");
    }

    /// <summary>
    /// Checks that dir holds a reward model (config.json and a scalar head of the right shape) from the
    /// files' headers alone, without reading the weights: for validating a job before it runs.
    /// </summary>
    public static void Check(string dir) => Open(dir);

    static (ModelConfig Config, IReadOnlyDictionary<string, (SafeTensorsFile File, SafeTensorEntry Entry)> Files, (SafeTensorsFile File, SafeTensorEntry Entry) Head) Open(string dir)
    {
        if (!Directory.Exists(dir)) throw new ModelFormatException(dir, "reward model directory not found");
        var config = ModelConfig.Load(Path.Combine(dir, Checkpoint.ConfigFile));
        var files = CheckpointShards.Open(dir);
        if (!files.TryGetValue(HeadTensor, out var head))
            throw new ModelFormatException(dir, $"not a reward model: it has no scalar head ({HeadTensor}, shape [1, {config.HiddenSize}]); " +
                $"its architectures are [{string.Join(", ", config.Architectures)}] (a reward model is saved as …ForSequenceClassification by a reward-model stage)");
        if (!head.Entry.Shape.SequenceEqual([1L, config.HiddenSize]))
            throw new ModelFormatException(head.File.Path, $"{HeadTensor} has shape [{string.Join(", ", head.Entry.Shape)}], expected [1, {config.HiddenSize}] (one label)");
        return (config, files, head);
    }

    /// <summary>
    /// Loads a reward model saved in ForSequenceClassification layout. A checkpoint without a scalar
    /// head (a policy's, say) is a <see cref="ModelFormatException"/> that says so.
    /// </summary>
    public static (RewardModel Model, ITokenizer Tokenizer) Load(string dir)
    {
        var (config, files, head) = Open(dir);
        var tokenizer = TokenizerJson.Load(Path.Combine(dir, Checkpoint.TokenizerFile));
        var model = new RewardModel(config);
        try
        {
            Checkpoint.LoadWeights(model._backbone, files, new HashSet<string> { HeadTensor });
            using var noGrad = no_grad();
            head.File.ReadInto(HeadTensor, model._score.weight!);
            string settings = Path.Combine(dir, SettingsFile);
            if (File.Exists(settings) && JsonNode.Parse(File.ReadAllText(settings))?["scope"]?.GetValue<string>() is { } scope) model.Scope = scope;
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (model, tokenizer);
    }
}
