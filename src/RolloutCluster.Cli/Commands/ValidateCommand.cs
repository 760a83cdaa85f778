using System.CommandLine;
using RolloutCluster.Data;
using RolloutCluster.Model.Checkpoints;
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
            if (task.MaxPromptTokens is { } max)
            {
                var tokenizer = spec.Model.Checkpoint is { } dir ? TokenizerJson.Load(Path.Combine(dir, "tokenizer.json")) : new ByteTokenizer();
                var template = PromptTemplate.Get(task.Template);
                data = data.Where(p => tokenizer.Encode(template.Render(p.Question)).Length <= max, $"prompt over {max} tokens (task.max_prompt_tokens)");
            }
            io.Out.WriteLine($"{path}: job {spec.Name} is valid");
            io.Out.WriteLine(BuiltinDataset.IsBuiltin(task.Dataset)
                ? $"  task: {task.Dataset} (endless training stream), {data.Test.Count} test problems, template {task.Template}"
                : $"  task: {task.Dataset} ({task.Format}): {data.TrainRows} train rows, {data.Test.Count} test rows ({task.Test ?? "no test set"}), template {task.Template}" +
                  (task.Epochs is { } e ? $", {e} epoch(s)" : ""));
            foreach (var note in data.Notes) io.Out.WriteLine($"  note: {note}");
            io.Out.WriteLine($"  model: {(spec.Model.Preset is { } preset ? $"preset {preset}" : spec.Model.Checkpoint)}; rewards: {string.Join(", ", spec.Rewards.Select(r => $"{r.Name} x{r.Weight}"))}");
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
