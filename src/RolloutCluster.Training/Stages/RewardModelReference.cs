using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Stages;

/// <summary>
/// A reward model named in a job (an eval stage's <c>reward_model</c>, the <c>model</c> reward's <c>path</c>):
/// a directory holding one (checked from its headers when the job is read, and made absolute, since a
/// silo's verifiers may open it), or "stage:NAME", an earlier reward-model stage's output, found in the
/// run directory when the stage runs.
/// </summary>
public static class RewardModelReference
{
    /// <summary>The reference as the spec keeps it; a bad one is refused at key, saying why.</summary>
    /// <param name="stageRefusal">Why "stage:NAME" cannot be used here, or null where it can.</param>
    public static string Parse(SpecMap s, string key, string value, JobParseContext job, string? stageRefusal = null)
    {
        if (StageReferences.Name(value) is not null)
            return stageRefusal is null
                ? StageReferences.Check<RewardModelStageSpec>(s, key, value, job, "an earlier reward-model stage", "earlier ones")
                : throw s.ErrorAt(key, stageRefusal);
        string dir = job.Resolve(value);
        try { Model.Reward.RewardModel.Check(dir); }
        catch (Model.ModelFormatException e) { throw s.ErrorAt(key, e.Message); }
        return dir;
    }

    /// <summary>The directory a parsed reference names when the job runs.</summary>
    public static string Directory(string reference, string runDirectory) => StageReferences.Name(reference) is { } stage
        ? Path.GetFullPath(RewardModelStageSpec.OutputPath(runDirectory, stage)) : reference;

    /// <summary>Rewards with every <c>model</c> reward's path made the directory it names (<see cref="Directory"/>).</summary>
    public static IReadOnlyList<RewardSpec> Resolve(IReadOnlyList<RewardSpec> rewards, string runDirectory) =>
        [.. rewards.Select(r => r.Name == "model" && r.Options?.GetValueOrDefault("path") is { } path && StageReferences.Name(path) is not null
            ? r with { Options = new Dictionary<string, string>(r.Options!, StringComparer.Ordinal) { ["path"] = Directory(path, runDirectory) } }
            : r)];
}
