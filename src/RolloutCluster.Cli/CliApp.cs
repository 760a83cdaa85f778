using System.CommandLine;
using RolloutCluster.Cli.Commands;
using RolloutCluster.Model;

namespace RolloutCluster.Cli;

/// <summary>The `rollout` command: verbs, and the mapping of user errors to one clear line.</summary>
public static class CliApp
{
    /// <summary>Exit code for bad input (a file, a flag, a job spec): the message says what and where.</summary>
    public const int BadInput = 2;

    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("RolloutCluster: reinforcement learning with verifiable rewards (GRPO) for language models, on Orleans.");
        var io = new Io(stdout, stderr);
        root.Subcommands.Add(InitCommand.Create(io));
        root.Subcommands.Add(InspectCommand.Create(io));
        root.Subcommands.Add(GenerateCommand.Create(io));
        root.Subcommands.Add(RunCommand.Create(io));
        root.Subcommands.Add(ValidateCommand.Create(io));
        root.Subcommands.Add(ResumeCommand.Create(io));
        root.Subcommands.Add(EvalCommand.Create(io));
        root.Subcommands.Add(ScoreCommand.Create(io));
        root.Subcommands.Add(TokenizeCommand.Create(io));
        root.Subcommands.Add(ChatCommand.Create(io));
        root.Subcommands.Add(SiloCommand.Create(io));
        foreach (var command in ClusterCommands.Create(io)) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Runs the command line; user errors print one line on stderr and return <see cref="BadInput"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default)
    {
        var parse = Build(stdout, stderr).Parse(args);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, cancellation);
        }
        catch (Exception e) when (UserError(e) is { } message)
        {
            await stderr.WriteLineAsync($"error: {message}");
            return BadInput;
        }
    }

    static string? UserError(Exception e) => e switch
    {
        ModelFormatException m => m.Message,
        UserInputException u => u.Message,
        Training.Jobs.JobSpecException j => j.Message,
        Data.DatasetException d => d.Message,
        Model.Jinja.JinjaException t => t.Message,
        _ => null,
    };
}

/// <summary>Where a command writes: injected so tests read what a user would see.</summary>
public sealed record Io(TextWriter Out, TextWriter Error);

/// <summary>A mistake in what the user typed or pointed at; printed as one line, never with a stack trace.</summary>
public sealed class UserInputException(string message) : Exception(message);
