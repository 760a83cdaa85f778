using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Stages;

/// <summary>
/// The <c>model</c> reward's path: a directory holding a reward model (checked from its headers when
/// the job is read, and made absolute, since a silo's verifiers open it), or, in a stage's own rewards,
/// "stage:NAME", an earlier reward-model stage's output, found in the run directory when the stage runs.
/// </summary>
public static class RewardModelReference
{
    /// <summary>The path as the spec keeps it; a bad one is refused at r.path, saying why.</summary>
    public static string Parse(SpecMap r, string value, JobParseContext job, bool stageRewards)
    {
        if (StageReferences.Name(value) is not null)
            return stageRewards
                ? StageReferences.Check<RewardModelStageSpec>(r, "path", value, job, "an earlier reward-model stage", "earlier ones")
                : throw r.ErrorAt("path", "the job's rewards serve every stage, so they cannot use a model an earlier stage trains: put this reward in the rewards of the GRPO stage that follows it");
        string dir = job.Resolve(value);
        try { Model.Reward.RewardModel.Check(dir); }
        catch (Model.ModelFormatException e) { throw r.ErrorAt("path", e.Message); }
        return dir;
    }

    /// <summary>Rewards with every "stage:NAME" model path replaced by that stage's saved model under the run directory.</summary>
    public static IReadOnlyList<RewardSpec> Resolve(IReadOnlyList<RewardSpec> rewards, string runDirectory) =>
        [.. rewards.Select(r => r.Name == "model" && r.Options?.GetValueOrDefault("path") is { } path && StageReferences.Name(path) is { } stage
            ? r with { Options = new Dictionary<string, string>(r.Options!, StringComparer.Ordinal) { ["path"] = Path.GetFullPath(RewardModelStageSpec.OutputPath(runDirectory, stage)) } }
            : r)];
}
