using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RolloutCluster.Abstractions;
using RolloutCluster.Cli.Cluster;
using RolloutCluster.Silo;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;
using Spectre.Console;

namespace RolloutCluster.Cli.Commands;

/// <summary>
/// `rollout run JOB`: starts an embedded single-silo cluster (with the dashboard), submits the job
/// through the control grain, follows it to the end and prints a summary. --in-process skips Orleans.
/// </summary>
public static class RunCommand
{
    public static Command Create(Io io)
    {
        var job = new Argument<string>("job") { Description = "Job file (YAML or JSON), e.g. examples/arithmetic-grpo.yaml" };
        var output = new Option<string>("--output") { Description = "Directory that receives runs/<job>", DefaultValueFactory = _ => "runs" };
        var dashboardPort = new Option<int>("--dashboard-port") { Description = "Orleans dashboard (and /metrics) on 127.0.0.1; 0 turns it off", DefaultValueFactory = _ => 8080 };
        var inProcess = new Option<bool>("--in-process") { Description = "Run the stages directly in this process, without Orleans" };
        var set = JobOptions.Set();
        var command = new Command("run", "Run a job's stages (sft, grpo, eval) on an embedded single-silo cluster") { job, output, dashboardPort, inProcess, set };
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(job)!;
            var overrides = parse.GetValue(set) ?? [];
            var spec = JobFile.Load(path, overrides);
            var runDirectory = Path.GetFullPath(Path.Combine(parse.GetValue(output)!, spec.Name));
            return await ExecuteAsync(io, path, spec, runDirectory, parse.GetValue(dashboardPort), parse.GetValue(inProcess), resume: false, cancellation, overrides);
        });
        return command;
    }

    /// <summary>Runs (or, with resume, continues from its latest resumable checkpoint) a job on an embedded silo or in this process.</summary>
    public static async Task<int> ExecuteAsync(Io io, string path, JobSpec spec, string runDirectory, int dashboardPort, bool inProcess, bool resume,
        CancellationToken cancellation, IReadOnlyList<string>? overrides = null)
    {
        var console = Consoles.For(io.Out);
        var observer = new ConsoleObserver(console);
        console.MarkupLine($"[bold]{Markup.Escape(spec.Name)}[/]: {spec.Stages.Count} stage(s) → {Markup.Escape(runDirectory)}");
        JobSummary summary;
        if (inProcess)
        {
            var from = resume ? ResumePoint.Latest(runDirectory) : null;
            if (from is not null) console.MarkupLine(Markup.Escape(JobResume.Describe(from, 0)));
            summary = await WithProgress(console, observer, () => new JobRunner(spec, runDirectory, observer, TimeProvider.System, resume: from).RunAsync(cancellation));
        }
        else
        {
            var (info, evaluations, seconds) = await RunOnEmbeddedClusterAsync(File.ReadAllText(path), path, runDirectory, spec.Name,
                dashboardPort, resume, console, observer, overrides ?? [], cancellation);
            if (info.State != JobState.Completed)
            {
                console.MarkupLine($"[red]{Markup.Escape(spec.Name)} {info.State.ToString().ToLowerInvariant()}[/]: {Markup.Escape(info.Message)}");
                return info.State == JobState.Cancelled ? 130 : 1;
            }
            summary = new JobSummary(runDirectory, info.Checkpoint ?? "", seconds, [], evaluations);
        }
        PrintSummary(console, summary);
        return 0;
    }

    static async Task<(JobInfo Info, List<(string, EvalResult)> Evaluations, double Seconds)> RunOnEmbeddedClusterAsync(string jobText, string file,
        string runDirectory, string name, int dashboardPort, bool resume, IAnsiConsole console, ConsoleObserver observer, IReadOnlyList<string> overrides,
        CancellationToken cancellation)
    {
        // Checked before the silo starts, so the one line below is all the user sees (a silo that fails to
        // bind logs screens of shutdown errors first); the catch covers a port taken in between.
        string busy = $"port {dashboardPort} on 127.0.0.1 is in use: pass --dashboard-port with another port (or 0 to run without the dashboard)";
        if (dashboardPort > 0 && LoopbackPorts.InUse(dashboardPort)) throw new UserInputException(busy);
        var config = new SiloConfig { SiloPort = LoopbackPorts.Free(), GatewayPort = LoopbackPorts.Free(), DashboardPort = dashboardPort };
        await using var silo = RolloutSiloHost.Build(config);
        try { await silo.StartAsync(cancellation); }
        catch (IOException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new UserInputException(busy);
        }
        long started = TimeProvider.System.GetTimestamp();
        console.MarkupLine(dashboardPort > 0
            ? $"embedded silo up; dashboard [link]http://127.0.0.1:{dashboardPort}/[/], metrics http://127.0.0.1:{dashboardPort}/metrics"
            : "embedded silo up (dashboard off)");
        try
        {
            var control = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IControlGrain>(0);
            var submitted = await control.SubmitAsync(new JobSubmission(jobText, file, runDirectory, resume, overrides, Directory.GetCurrentDirectory()));
            if (!submitted.Accepted) throw new UserInputException(submitted.Error ?? "the job was refused");
            // Ctrl+C asks the job to stop at its next step, with a resumable checkpoint, and still waits for it.
            using var stopping = cancellation.Register(() => _ = control.CancelAsync(name));
            var (info, evaluations) = await WithProgress(console, observer,
                () => JobWatcher.FollowAsync(control, name, observer, TimeProvider.System, CancellationToken.None));
            return (info, evaluations, TimeProvider.System.GetElapsedTime(started).TotalSeconds);
        }
        finally
        {
            await silo.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Runs work under live progress bars when the output is a terminal, plainly otherwise.</summary>
    static async Task<T> WithProgress<T>(IAnsiConsole console, ConsoleObserver observer, Func<Task<T>> work)
    {
        if (!console.Profile.Capabilities.Interactive) return await work();
        T result = default!;
        await console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                observer.Attach(context);
                result = await work();
            });
        return result;
    }

    static void PrintSummary(IAnsiConsole console, JobSummary summary)
    {
        var table = new Table().AddColumns("evaluation", "pass@1", "pass@k", "maj@k", "format", "mean length");
        foreach (var (label, r) in summary.Evaluations)
            table.AddRow($"after {label}", $"{r.PassAt1:P1}", $"{r.PassAtK:P1} (k={r.Samples})", $"{r.MajAtK:P1}", $"{r.FormatRate:P1}", $"{r.MeanLength:F1}");
        if (summary.Evaluations.Count > 0) console.Write(table);
        var final = summary.Evaluations.Where(e => !e.Label.Contains(" step ", StringComparison.Ordinal)).ToList();
        if (final.Count >= 2)
        {
            var (first, last) = (final[^2], final[^1]);
            console.MarkupLine($"pass@1 {first.Result.PassAt1:P1} after {Markup.Escape(first.Label)} → {last.Result.PassAt1:P1} after {Markup.Escape(last.Label)} ({(last.Result.PassAt1 - first.Result.PassAt1) * 100:+0.0;-0.0} points)");
        }
        console.MarkupLine($"done in {summary.Seconds / 60:F1} min{(summary.Stages.Count > 0 ? ": " + string.Join(", ", summary.Stages.Select(s => $"{s.Stage} {s.Steps} steps")) : "")}");
        console.MarkupLine($"metrics {Markup.Escape(Path.Combine(summary.RunDirectory, "metrics.jsonl"))}, plot {Markup.Escape(Path.Combine(summary.RunDirectory, "plot.png"))}, checkpoint {Markup.Escape(summary.FinalCheckpoint)}");
    }
}
