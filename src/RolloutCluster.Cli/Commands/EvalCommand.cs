using System.CommandLine;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Runtime;
using RolloutCluster.Training.Engine;
using RolloutCluster.Data.Datasets;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Sandbox;
using TorchSharp;

namespace RolloutCluster.Cli.Commands;

/// <summary>`rollout eval CHECKPOINT --dataset D`: pass@1, pass@k and maj@k on held-out problems.</summary>
public static class EvalCommand
{
    public static Command Create(Io io)
    {
        var dir = new Argument<string>("checkpoint") { Description = "Checkpoint directory" };
        var dataset = new Option<string>("--dataset") { Description = "A dataset file (JSONL, JSON, Parquet; see --format), or builtin:arithmetic?split=test&n=500", Required = true };
        var samples = new Option<int>("--samples") { Description = "Samples per problem (k)", DefaultValueFactory = _ => 1 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 1f };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 96 };
        var template = new Option<string?>("--template") { Description = "Prompt template (default: the training job's, from rollout.json; else r1-zero)" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var reward = new Option<string>("--reward") { Description = "Correctness: math (equivalence rules) or accuracy (exact integers)", DefaultValueFactory = _ => "math" };
        reward.AcceptOnlyFromAmong("math", "accuracy", "code");
        var format = new Option<string>("--format") { Description = $"Row format of a dataset file: {string.Join(", ", ProblemFormats.Names)}", DefaultValueFactory = _ => "generic" };
        format.AcceptOnlyFromAmong([.. ProblemFormats.Names]);
        var command = new Command("eval", "Evaluate a checkpoint: pass@1, pass@k and maj@k") { dir, dataset, samples, temperature, maxNew, template, seed, threads, reward, format };
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(dir)!;
            int k = parse.GetValue(samples);
            if (k < 1) throw new UserInputException($"--samples must be at least 1, found {k}");
            if (parse.GetValue(temperature) < 0) throw new UserInputException("--temperature must be >= 0");
            torch.set_num_threads(Math.Max(1, parse.GetValue(threads)));
            var info = RunInfo.Load(path);
            var reference = parse.GetValue(dataset)!;
            var problems = BuiltinDataset.IsBuiltin(reference)
                ? BuiltinDataset.Resolve(reference, info?.Seed ?? 0, info?.Arithmetic ?? new ArithmeticSettings(), info?.TestSize ?? 500)
                : new DatasetSource(reference, parse.GetValue(format)!).Load().Problems;
            PromptTemplate promptTemplate;
            try { promptTemplate = PromptTemplate.Get(parse.GetValue(template) ?? info?.Template ?? PromptTemplate.R1Zero.Name); }
            catch (ArgumentException e) { throw new UserInputException($"--template: {e.Message}"); }
            var loaded = Checkpoint.Load(path, TorchDevices.Select("auto").Device);
            using var policy = new Policy(loaded.Model, loaded.Tokenizer, promptTemplate);
            using var loggers = Logging.Stderr();
            await using var rewards = new RewardSets(new SandboxOptions(), loggers.CreateLogger("sandbox"));
            await using var engine = new LocalRolloutEngine(policy, rewards);
            long version = await engine.PublishPolicyAsync(policy, null, cancellation);
            EvalResult r;
            try
            {
                r = await Evaluator.EvaluateAsync(engine, version, problems, k, parse.GetValue(temperature), parse.GetValue(maxNew), parse.GetValue(seed),
                    new RewardSpec(parse.GetValue(reward)!, 1), cancellation);
            }
            catch (SandboxUnavailableException e) { throw new UserInputException(e.Message); }
            io.Out.WriteLine($"{path}: {r.Problems} problems x {k} samples at T={parse.GetValue(temperature)} ({promptTemplate.Name} template), {r.Seconds:F1} s");
            io.Out.WriteLine($"  pass@1 {r.PassAt1:P1}   pass@{k} {r.PassAtK:P1}   maj@{k} {r.MajAtK:P1}   format {r.FormatRate:P1}   mean length {r.MeanLength:F1}");
            if (r.PassAt1ByOperator.Count > 1)
                io.Out.WriteLine("  pass@1 by operator: " + string.Join(", ", r.PassAt1ByOperator.OrderBy(x => x.Key).Select(x => $"{x.Key} {x.Value:P1}")));
            return 0;
        });
        return command;
    }
}
