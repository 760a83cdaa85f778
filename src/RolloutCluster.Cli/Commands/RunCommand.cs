using System.CommandLine;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;
using Spectre.Console;

namespace RolloutCluster.Cli.Commands;

/// <summary>`rollout run JOB`: runs a job file's stages in this process and prints a summary.</summary>
public static class RunCommand
{
    public static Command Create(Io io)
    {
        var job = new Argument<string>("job") { Description = "Job file (YAML or JSON), e.g. examples/arithmetic-grpo.yaml" };
        var output = new Option<string>("--output") { Description = "Directory that receives runs/<job>", DefaultValueFactory = _ => "runs" };
        var command = new Command("run", "Run a training job (SFT and GRPO stages) in this process") { job, output };
        command.SetAction(async (parse, cancellation) =>
        {
            var spec = JobFile.Load(parse.GetValue(job)!);
            var runDirectory = Path.Combine(parse.GetValue(output)!, spec.Name);
            var console = Consoles.For(io.Out);
            console.MarkupLine($"[bold]{Markup.Escape(spec.Name)}[/]: {spec.Stages.Count} stage(s) → {Markup.Escape(runDirectory)}");
            var observer = new ConsoleObserver(console);
            var runner = new JobRunner(spec, runDirectory, observer, TimeProvider.System);
            JobSummary summary;
            if (console.Profile.Capabilities.Interactive)
            {
                JobSummary? result = null;
                await console.Progress().AutoClear(false).HideCompleted(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async context =>
                    {
                        observer.Attach(context);
                        result = await runner.RunAsync(cancellation);
                    });
                summary = result!;
            }
            else summary = await runner.RunAsync(cancellation);
            PrintSummary(console, summary);
            return 0;
        });
        return command;
    }

    static void PrintSummary(IAnsiConsole console, JobSummary summary)
    {
        var table = new Table().AddColumns("evaluation", "pass@1", "pass@k", "maj@k", "format", "mean length");
        foreach (var (label, r) in summary.Evaluations)
            table.AddRow($"after {label}", $"{r.PassAt1:P1}", $"{r.PassAtK:P1} (k={r.Samples})", $"{r.MajAtK:P1}", $"{r.FormatRate:P1}", $"{r.MeanLength:F1}");
        if (summary.Evaluations.Count > 0) console.Write(table);
        if (summary.Evaluations.Count >= 2)
        {
            var (first, last) = (summary.Evaluations[^2], summary.Evaluations[^1]);
            console.MarkupLine($"pass@1 {first.Result.PassAt1:P1} after {Markup.Escape(first.Label)} → {last.Result.PassAt1:P1} after {Markup.Escape(last.Label)} ({(last.Result.PassAt1 - first.Result.PassAt1) * 100:+0.0;-0.0} points)");
        }
        console.MarkupLine($"done in {summary.Seconds / 60:F1} min: {string.Join(", ", summary.Stages.Select(s => $"{s.Stage} {s.Steps} steps"))}");
        console.MarkupLine($"metrics {Markup.Escape(Path.Combine(summary.RunDirectory, "metrics.jsonl"))}, plot {Markup.Escape(Path.Combine(summary.RunDirectory, "plot.png"))}, checkpoint {Markup.Escape(summary.FinalCheckpoint)}");
    }
}
