using System.CommandLine;

namespace RolloutCluster.Cli.Commands;

/// <summary>Options every verb that reads a job file shares.</summary>
public static class JobOptions
{
    /// <summary>`--set path=value`, repeatable: overrides a field of the job file (stages addressed by name: stages.grpo.steps=3).</summary>
    public static Option<string[]> Set() => new("--set")
    {
        Description = "Override a job field, e.g. --set stages.grpo.steps=3 or --set task.dataset=data.jsonl (repeatable)",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };
}
