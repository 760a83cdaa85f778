using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Training.Stages;

/// <summary>
/// A kind of stage a job can list (sft, grpo, eval, …): it reads its own section of the job file,
/// with positioned errors, and runs against the job's shared parts (<see cref="StageContext"/>).
/// Registered by name in <see cref="StageKinds"/>.
/// </summary>
public interface IStage
{
    /// <summary>The name job files use in <c>kind:</c>.</summary>
    string Kind { get; }

    /// <summary>Reads the stage's fields (the caller has read name and kind); every error names file, line, column and field.</summary>
    StageSpec Parse(SpecMap section, string name, JobParseContext job);

    /// <summary>One line for `rollout validate`'s stage plan.</summary>
    string Describe(StageSpec spec);

    /// <summary>Runs the stage (from <paramref name="resume"/>'s step when given); returns the steps done.</summary>
    Task<int> RunAsync(StageSpec spec, StageContext context, ResumePoint? resume, CancellationToken cancellation);
}

/// <summary>The stage kinds by name.</summary>
public static class StageKinds
{
    static readonly Dictionary<string, IStage> Kinds = new IStage[] { new SftStage(), new GrpoStage(), new EvalStage(), new RejectionSamplingStage(), new RewardModelStage() }.ToDictionary(s => s.Kind, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Names => Kinds.Keys;

    public static IStage? Find(string kind) => Kinds.GetValueOrDefault(kind);

    public static IStage Get(string kind) => Find(kind) ?? throw new ArgumentException($"unknown stage kind '{kind}'; known: {string.Join(", ", Kinds.Keys)}");
}
