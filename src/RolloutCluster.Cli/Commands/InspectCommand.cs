using System.CommandLine;
using RolloutCluster.Model.Checkpoints;

namespace RolloutCluster.Cli.Commands;

/// <summary>`rollout inspect CHECKPOINT`: loads a checkpoint fully (every check runs) and summarises it.</summary>
public static class InspectCommand
{
    public static Command Create(Io io)
    {
        var dir = new Argument<string>("checkpoint") { Description = "Checkpoint directory (config.json, model.safetensors, tokenizer.json)" };
        var command = new Command("inspect", "Load a checkpoint and print its architecture") { dir };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(dir)!;
            var loaded = Checkpoint.Load(path);
            using var model = loaded.Model;
            var c = loaded.Config;
            var stored = SafeTensorsFile.Open(Path.Combine(path, Checkpoint.WeightsFile)).Entries.Values.Select(e => e.DType).Distinct();
            io.Out.WriteLine($"{path}: {c.ModelType}, {model.parameters().Sum(p => p.NumberOfElements):N0} parameters");
            io.Out.WriteLine($"  layers {c.NumHiddenLayers}, hidden {c.HiddenSize}, intermediate {c.IntermediateSize}, heads {c.NumAttentionHeads} (kv {c.KeyValueHeads}), head_dim {c.HeadDim}");
            io.Out.WriteLine($"  vocab {c.VocabSize} (tokenizer {loaded.Tokenizer.VocabSize}, eos {loaded.Tokenizer.EosId}), max positions {c.MaxPositionEmbeddings}, rope_theta {c.RopeTheta}, tied {c.TieWordEmbeddings}");
            io.Out.WriteLine($"  stored as {string.Join(", ", stored)}");
            return 0;
        });
        return command;
    }
}
