using System.CommandLine;
using RolloutCluster.Cli.Cluster;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Cli.Commands;

/// <summary>
/// `rollout resume RUN_DIRECTORY` continues a stopped job (cancelled, or killed with every process)
/// from the latest resumable checkpoint in its run directory, on an embedded silo like `run` (or
/// --in-process). `rollout resume JOB --cluster …` asks a running cluster to continue the named job.
/// </summary>
public static class ResumeCommand
{
    public static Command Create(Io io)
    {
        var target = new Argument<string>("target") { Description = "A run directory (runs/<job>) to continue here, or a job name on a cluster" };
        var dashboardPort = new Option<int>("--dashboard-port") { Description = "Orleans dashboard of the embedded silo; 0 turns it off", DefaultValueFactory = _ => 8080 };
        var inProcess = new Option<bool>("--in-process") { Description = "Continue in this process, without Orleans" };
        var connection = new ClusterConnectionOptions();
        var command = new Command("resume", "Continue a stopped job from its latest resumable checkpoint") { target, dashboardPort, inProcess };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var name = parse.GetValue(target)!;
            if (Directory.Exists(name))
            {
                var runDirectory = Path.GetFullPath(name);
                var jobFile = Directory.GetFiles(runDirectory, "job.*").FirstOrDefault(f => f.EndsWith(".yaml") || f.EndsWith(".yml") || f.EndsWith(".json"))
                    ?? throw new UserInputException($"{runDirectory}: no job.yaml or job.json (is this a run directory written by `rollout run`?)");
                var spec = JobFile.Load(jobFile);
                var latest = ResumePoint.Latest(runDirectory);
                if (latest is null) throw new UserInputException($"{runDirectory}/checkpoints: no resumable checkpoint (resume.json); run the job again instead");
                if (latest.State.StageIndex >= spec.Stages.Count) throw new UserInputException($"{spec.Name} has already completed ({latest.Directory}); nothing to resume");
                return await RunCommand.ExecuteAsync(io, jobFile, spec, runDirectory, parse.GetValue(dashboardPort), parse.GetValue(inProcess), resume: true, cancellation);
            }
            await using var client = await connection.ConnectAsync(parse, cancellation);
            var lookup = await client.Control.ResumeAsync(name);
            if (lookup.Job is null || lookup.Error is not null) throw new UserInputException(lookup.Error!);
            io.Out.WriteLine($"resumed {lookup.Job.Name}; follow it with `rollout watch {lookup.Job.Name}`");
            return 0;
        });
        return command;
    }
}
