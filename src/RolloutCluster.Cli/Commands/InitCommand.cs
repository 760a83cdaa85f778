using System.CommandLine;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;

namespace RolloutCluster.Cli.Commands;

/// <summary>`rollout init DIR`: a randomly initialised model with the byte-level tokenizer, saved in Hugging Face layout.</summary>
public static class InitCommand
{
    public static Command Create(Io io)
    {
        var dir = new Argument<string>("dir") { Description = "Directory to write the checkpoint to" };
        var preset = new Option<string>("--preset") { Description = $"Architecture: {string.Join(", ", ModelPresets.Names)}", DefaultValueFactory = _ => "tiny" };
        var config = new Option<string?>("--config") { Description = "A config.json to use instead of a preset" };
        var seed = new Option<long>("--seed") { Description = "Initialisation seed", DefaultValueFactory = _ => 0 };
        var command = new Command("init", "Create a randomly initialised model checkpoint") { dir, preset, config, seed };
        command.SetAction(parse =>
        {
            var tokenizer = new ByteTokenizer();
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
                throw new UserInputException($"vocab_size {modelConfig.VocabSize} is smaller than the byte tokenizer's {tokenizer.VocabSize} ids");
            using var model = new CausalLm(modelConfig);
            model.InitializeWeights(parse.GetValue(seed));
            var path = parse.GetValue(dir)!;
            Checkpoint.Save(path, model, tokenizer);
            io.Out.WriteLine($"wrote {path}: {modelConfig.ParameterCount():N0} parameters, {modelConfig.NumHiddenLayers} layers, vocab {modelConfig.VocabSize}");
            return 0;
        });
        return command;
    }
}
