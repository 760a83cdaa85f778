using System.CommandLine;
using System.Globalization;
using RolloutCluster.Abstractions;
using RolloutCluster.Cli.Cluster;
using RolloutCluster.Training.Jobs;
using Spectre.Console;

namespace RolloutCluster.Cli.Commands;

/// <summary>The verbs that talk to a running cluster: submit, status, watch, cancel, list.</summary>
public static class ClusterCommands
{
    public static IEnumerable<Command> Create(Io io) => [Submit(io), Status(io), Watch(io), Cancel(io), List(io)];

    static Command Submit(Io io)
    {
        var connection = new ClusterConnectionOptions();
        var job = new Argument<string>("job") { Description = "Job file (YAML or JSON)" };
        var runDirectory = new Option<string?>("--run-directory") { Description = "Where the learner writes runs/<job> on its silo (default: runs/<job> in its working directory)" };
        var set = JobOptions.Set();
        var command = new Command("submit", "Submit a job to a running cluster") { job, runDirectory, set };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(job)!;
            if (!File.Exists(path)) throw new UserInputException($"{path}: job file not found");
            await using var client = await connection.ConnectAsync(parse, cancellation);
            var result = await client.Control.SubmitAsync(new JobSubmission(await File.ReadAllTextAsync(path, cancellation), path, parse.GetValue(runDirectory),
                Overrides: parse.GetValue(set), BaseDirectory: Directory.GetCurrentDirectory()));
            if (!result.Accepted) throw new UserInputException(result.Error ?? "the job was refused");
            io.Out.WriteLine($"submitted {result.Job!.Name}; follow it with `rollout watch {result.Job.Name}`");
            return 0;
        });
        return command;
    }

    static Command Status(Io io)
    {
        var connection = new ClusterConnectionOptions();
        var job = new Argument<string>("job");
        var command = new Command("status", "Show a job's status") { job };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            await using var client = await connection.ConnectAsync(parse, cancellation);
            var lookup = await client.Control.StatusAsync(parse.GetValue(job)!);
            if (lookup.Job is null) throw new UserInputException(lookup.Error!);
            Print(io.Out, lookup.Job);
            return 0;
        });
        return command;
    }

    static Command Cancel(Io io)
    {
        var connection = new ClusterConnectionOptions();
        var job = new Argument<string>("job");
        var command = new Command("cancel", "Stop a job at its next step, leaving a resumable checkpoint") { job };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            await using var client = await connection.ConnectAsync(parse, cancellation);
            var lookup = await client.Control.CancelAsync(parse.GetValue(job)!);
            if (lookup.Job is null || lookup.Error is not null) throw new UserInputException(lookup.Error!);
            io.Out.WriteLine($"cancelling {lookup.Job.Name}; it stops at its next step boundary");
            return 0;
        });
        return command;
    }

    static Command Watch(Io io)
    {
        var connection = new ClusterConnectionOptions();
        var job = new Argument<string>("job");
        var command = new Command("watch", "Follow a job's progress until it ends") { job };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            await using var client = await connection.ConnectAsync(parse, cancellation);
            var name = parse.GetValue(job)!;
            var lookup = await client.Control.StatusAsync(name);
            if (lookup.Job is null) throw new UserInputException(lookup.Error!);
            var console = Consoles.For(io.Out);
            var (info, _) = await JobWatcher.FollowAsync(client.Control, name, new ConsoleObserver(console), TimeProvider.System, cancellation);
            Print(io.Out, info);
            return info.State == JobState.Completed ? 0 : 1;
        });
        return command;
    }

    static Command List(Io io)
    {
        var connection = new ClusterConnectionOptions();
        var command = new Command("list", "List the cluster's jobs");
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            await using var client = await connection.ConnectAsync(parse, cancellation);
            var jobs = await client.Control.ListAsync();
            if (jobs.Count == 0) io.Out.WriteLine("no jobs");
            foreach (var j in jobs) io.Out.WriteLine($"{j.Name,-24} {j.State.ToString().ToLowerInvariant(),-10} {j.Stage} {j.Step}/{j.Steps}  {j.Message}");
            return 0;
        });
        return command;
    }

    static void Print(TextWriter output, JobInfo j)
    {
        output.WriteLine($"{j.Name}: {j.State.ToString().ToLowerInvariant()}, stage {j.Stage} step {j.Step}/{j.Steps} ({j.Message})");
        output.WriteLine($"  run directory {j.RunDirectory}; last checkpoint {j.Checkpoint ?? "none yet"}");
        var g = j.Groups;
        if (g.Dispatched > 0)
            output.WriteLine($"  groups: {g.Dispatched} dispatched = {g.Trained} trained + {g.DroppedStale + g.DroppedNoSignal + g.DroppedSurplus + g.DroppedUnused} dropped + {g.Failed} failed + {g.InFlight} in flight");
        foreach (var key in new[] { "reward/mean", "reward/accuracy", "response/length_mean", "actor/entropy", "sft/loss" })
            if (j.LatestMetrics.TryGetValue(key, out var v)) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {key} {v:F4}"));
    }
}
