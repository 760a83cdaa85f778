using System.CommandLine;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using TorchSharp;

namespace RolloutCluster.Cli.Commands;

/// <summary>`rollout init DIR`: a randomly initialised model with the byte-level tokenizer or a real one (--tokenizer), saved in Hugging Face layout.</summary>
public static class InitCommand
{
    public static Command Create(Io io)
    {
        var dir = new Argument<string>("dir") { Description = "Directory to write the checkpoint to" };
        var preset = new Option<string>("--preset") { Description = $"Architecture: {string.Join(", ", ModelPresets.Names)}", DefaultValueFactory = _ => "tiny" };
        var config = new Option<string?>("--config") { Description = "A config.json to use instead of a preset" };
        var seed = new Option<long>("--seed") { Description = "Initialisation seed", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "Weights dtype: float32, bfloat16 (bf16) or float16", DefaultValueFactory = _ => "float32" };
        dtype.AcceptOnlyFromAmong("float32", "bfloat16", "bf16", "float16", "fp16");
        var shard = new Option<string>("--max-shard-size") { Description = "Shard the weights above this size (e.g. 2GB, 500MB) with model.safetensors.index.json", DefaultValueFactory = _ => "5GB" };
        var tokenizerDir = new Option<string?>("--tokenizer") { Description = "A directory with tokenizer.json (and tokenizer_config.json) to use instead of the byte-level tokenizer, e.g. a real model's" };
        var command = new Command("init", "Create a randomly initialised model checkpoint") { dir, preset, config, seed, dtype, shard, tokenizerDir };
        command.SetAction(parse =>
        {
            ITokenizer tokenizer = parse.GetValue(tokenizerDir) is { } t ? LoadTokenizer(t) : new ByteTokenizer();
            var configPath = parse.GetValue(config);
            ModelConfig modelConfig;
            try
            {
                modelConfig = configPath is not null ? ModelConfig.Load(configPath) : ModelPresets.Get(parse.GetValue(preset)!, tokenizer.VocabSize);
            }
            catch (ArgumentException e)
            {
                throw new UserInputException($"--preset: {e.Message.Split(" (Parameter")[0]}");
            }
            if (modelConfig.VocabSize < tokenizer.VocabSize)
                throw new UserInputException($"vocab_size {modelConfig.VocabSize} is smaller than the tokenizer's {tokenizer.VocabSize} ids");
            var scalar = parse.GetValue(dtype) switch { "bfloat16" or "bf16" => TorchSharp.torch.ScalarType.BFloat16, "float16" or "fp16" => TorchSharp.torch.ScalarType.Float16, _ => TorchSharp.torch.ScalarType.Float32 };
            using var model = CausalLm.Create(modelConfig, scalar);
            model.InitializeWeights(parse.GetValue(seed));
            var path = parse.GetValue(dir)!;
            var shardBytes = CheckpointShards.ParseSize(parse.GetValue(shard)!) ?? throw new UserInputException($"--max-shard-size: expected a size such as 2GB or 500MB, found \"{parse.GetValue(shard)}\"");
            Checkpoint.Save(path, model, tokenizer, shardBytes: shardBytes);
            io.Out.WriteLine($"wrote {path}: {modelConfig.ParameterCount():N0} parameters ({DTypes.ToConfigName(scalar)}), {modelConfig.NumHiddenLayers} layers, vocab {modelConfig.VocabSize}, tokenizer of {tokenizer.VocabSize} ids");
            return 0;
        });
        return command;
    }

    static ITokenizer LoadTokenizer(string dir)
    {
        var file = Directory.Exists(dir) ? Path.Combine(dir, Checkpoint.TokenizerFile) : dir;
        if (!File.Exists(file)) throw new UserInputException($"--tokenizer: {file} not found (expected a directory with tokenizer.json)");
        return TokenizerJson.Load(file);
    }
}
