using System.CommandLine;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Sampling;
using TorchSharp;

namespace RolloutCluster.Cli.Commands;

/// <summary>`rollout generate CHECKPOINT --prompt TEXT`: samples completions and prints them.</summary>
public static class GenerateCommand
{
    public static Command Create(Io io)
    {
        var dir = new Argument<string>("checkpoint") { Description = "Checkpoint directory" };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text", Required = true };
        var samples = new Option<int>("--samples") { Description = "Completions to sample", DefaultValueFactory = _ => 1 };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 1f };
        var topP = new Option<float>("--top-p") { DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 0 };
        var stop = new Option<string[]>("--stop") { Description = "Stop strings", AllowMultipleArgumentsPerToken = true };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
        var dtype = new Option<string>("--dtype") { Description = "Load the weights as float32 or bfloat16", DefaultValueFactory = _ => "float32" };
        dtype.AcceptOnlyFromAmong("float32", "bfloat16", "bf16");
        var command = new Command("generate", "Sample completions of a prompt from a checkpoint")
            { dir, prompt, samples, maxNew, temperature, topP, topK, stop, seed, device, dtype };
        command.SetAction(parse =>
        {
            var (target, note) = SelectDevice(parse.GetValue(device)!);
            if (note is not null) io.Error.WriteLine($"warning: {note}");
            var loaded = Checkpoint.Load(parse.GetValue(dir)!, target, parse.GetValue(dtype) is "bfloat16" or "bf16" ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32);
            using var model = loaded.Model;
            var p = new SamplingParams
            {
                MaxNewTokens = parse.GetValue(maxNew),
                Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP),
                TopK = parse.GetValue(topK),
                StopTokenIds = [loaded.Tokenizer.EosId],
                StopStrings = parse.GetValue(stop) ?? [],
                Seed = parse.GetValue(seed),
            };
            if (p.Validate() is { } problem) throw new UserInputException(problem);
            int n = parse.GetValue(samples);
            if (n < 1) throw new UserInputException($"--samples must be at least 1, found {n}");
            var ids = loaded.Tokenizer.Encode(parse.GetValue(prompt)!);
            if (ids.Length == 0) throw new UserInputException("--prompt is empty");
            var completions = new Sampler(model, loaded.Tokenizer).Generate(Enumerable.Repeat(ids, n).ToList(), p);
            foreach (var c in completions)
                io.Out.WriteLine($"[{c.TokenIds.Length} tokens, {c.Finish.ToString().ToLowerInvariant()}, mean log-prob {c.LogProbs.DefaultIfEmpty().Average():F3}] {c.Text}");
            return 0;
        });
        return command;
    }

    static (torch.Device, string?) SelectDevice(string requested)
    {
        try { return TorchDevices.Select(requested); }
        catch (ArgumentException e) { throw new UserInputException($"--device: {e.Message}"); }
    }
}
