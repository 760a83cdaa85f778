using System.CommandLine;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Runtime;
using TorchSharp;

namespace RolloutCluster.Cli.Commands;

/// <summary>`rollout eval CHECKPOINT --dataset D`: pass@1, pass@k and maj@k on held-out problems.</summary>
public static class EvalCommand
{
    public static Command Create(Io io)
    {
        var dir = new Argument<string>("checkpoint") { Description = "Checkpoint directory" };
        var dataset = new Option<string>("--dataset") { Description = "JSONL of {\"prompt\", \"answer\"}, or builtin:arithmetic?split=test&n=500", Required = true };
        var samples = new Option<int>("--samples") { Description = "Samples per problem (k)", DefaultValueFactory = _ => 1 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 1f };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 96 };
        var template = new Option<string?>("--template") { Description = "Prompt template (default: the training job's, from rollout.json; else r1-zero)" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var reward = new Option<string>("--reward") { Description = "Correctness: math (equivalence rules) or accuracy (exact integers)", DefaultValueFactory = _ => "math" };
        reward.AcceptOnlyFromAmong("math", "accuracy");
        var command = new Command("eval", "Evaluate a checkpoint: pass@1, pass@k and maj@k") { dir, dataset, samples, temperature, maxNew, template, seed, threads, reward };
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(dir)!;
            int k = parse.GetValue(samples);
            if (k < 1) throw new UserInputException($"--samples must be at least 1, found {k}");
            if (parse.GetValue(temperature) < 0) throw new UserInputException("--temperature must be >= 0");
            torch.set_num_threads(Math.Max(1, parse.GetValue(threads)));
            var info = RunInfo.Load(path);
            var problems = BuiltinDataset.Resolve(parse.GetValue(dataset)!, info?.Seed ?? 0, info?.Arithmetic ?? new ArithmeticSettings(), info?.TestSize ?? 500);
            PromptTemplate promptTemplate;
            try { promptTemplate = PromptTemplate.Get(parse.GetValue(template) ?? info?.Template ?? PromptTemplate.R1Zero.Name); }
            catch (ArgumentException e) { throw new UserInputException($"--template: {e.Message}"); }
            var loaded = Checkpoint.Load(path, TorchDevices.Select("auto").Device);
            using var policy = new Policy(loaded.Model, loaded.Tokenizer, promptTemplate);
            var r = await Evaluator.EvaluateAsync(policy, problems, k, parse.GetValue(temperature), parse.GetValue(maxNew), parse.GetValue(seed),
                RolloutCluster.Rewards.RewardRegistry.Create(parse.GetValue(reward)!), cancellation);
            io.Out.WriteLine($"{path}: {r.Problems} problems x {k} samples at T={parse.GetValue(temperature)} ({promptTemplate.Name} template), {r.Seconds:F1} s");
            io.Out.WriteLine($"  pass@1 {r.PassAt1:P1}   pass@{k} {r.PassAtK:P1}   maj@{k} {r.MajAtK:P1}   format {r.FormatRate:P1}   mean length {r.MeanLength:F1}");
            if (r.PassAt1ByOperator.Count > 1)
                io.Out.WriteLine("  pass@1 by operator: " + string.Join(", ", r.PassAt1ByOperator.OrderBy(x => x.Key).Select(x => $"{x.Key} {x.Value:P1}")));
            return 0;
        });
        return command;
    }
}
