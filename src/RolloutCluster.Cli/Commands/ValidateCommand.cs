using System.CommandLine;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Training.Runtime;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Cli.Commands;

/// <summary>
/// `rollout validate JOB`: parses the job (with --set overrides), reads every dataset it names, and
/// prints row counts and the stage plan; a bad job exits with file:line:col errors before anything runs.
/// </summary>
public static class ValidateCommand
{
    public static Command Create(Io io)
    {
        var job = new Argument<string>("job") { Description = "Job file (YAML or JSON)" };
        var set = JobOptions.Set();
        var command = new Command("validate", "Check a job file and its datasets, and print the stage plan") { job, set };
        command.SetAction((parse, cancellation) =>
        {
            var path = parse.GetValue(job)!;
            var spec = JobFile.Load(path, parse.GetValue(set));
            var task = spec.Task;
            var data = TaskData.Load(task.ToSource(), spec.Seed);
            var (trainRows, testRows) = (data.TrainRows, data.Test.Count);
            // The prompts that fit the model, counted as the job will count them.
            var tokenizer = spec.Model.Checkpoint is { } dir ? TokenizerJson.Load(Path.Combine(dir, "tokenizer.json")) : new ByteTokenizer();
            var config = spec.Model.Checkpoint is { } d ? ModelConfig.Load(Path.Combine(d, "config.json")) : ModelPresets.Get(spec.Model.Preset!, tokenizer.VocabSize);
            var prompts = new RolloutCluster.Training.Engine.PromptBuilder(tokenizer, PromptTemplate.Get(task.Template), task.System, task.EffortLine == "last");
            data = JobRunner.FitToModel(spec, data, p => prompts.Ids(p).Length, config.MaxPositionEmbeddings);
            io.Out.WriteLine($"{path}: job {spec.Name} is valid");
            io.Out.WriteLine(BuiltinDataset.IsBuiltin(task.Dataset)
                ? $"  task: {task.Dataset} (endless training stream), {data.Test.Count} test problems, template {task.Template}"
                : $"  task: {task.Dataset} ({task.Format}): {trainRows} train rows, {testRows} test rows ({task.Test ?? "no test set"}), template {task.Template}" +
                  (task.Epochs is { } e ? $", {e} epoch(s)" : ""));
            if (data.TrainRows != trainRows || data.Test.Count != testRows)
                io.Out.WriteLine($"  used: {data.TrainRows} train and {data.Test.Count} test rows fit the model");
            foreach (var note in data.Notes) io.Out.WriteLine($"  note: {note}");
            string lora = spec.Model.Lora is { } l ? $", LoRA rank {l.Rank} alpha {l.Alpha:G4} on {string.Join(", ", l.TargetModules)}{(spec.Model.Adapter is { } a ? $" from {a}" : "")}" : "";
            io.Out.WriteLine($"  model: {(spec.Model.Preset is { } preset ? $"preset {preset}" : spec.Model.Checkpoint)}{lora}; rewards: {string.Join(", ", spec.Rewards.Select(r => $"{r.Name} x{r.Weight}"))}");
            io.Out.WriteLine("  stages:");
            foreach (var (stage, i) in spec.Stages.Select((s, i) => (s, i)))
                io.Out.WriteLine($"    {i + 1}. {stage.Name} ({stage.Kind}): {StageKinds.Get(stage.Kind).Describe(stage)}");
            if (spec.Evaluation is { } eval)
                io.Out.WriteLine($"  evaluation: {eval.Dataset ?? "the task's test set"}, {eval.Samples} samples, after {string.Join(", ", eval.After)}{(eval.EverySteps > 0 ? $" and every {eval.EverySteps} steps" : "")}");
            return Task.FromResult(0);
        });
        return command;
    }
}
