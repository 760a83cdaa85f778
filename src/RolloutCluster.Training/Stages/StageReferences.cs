using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Stages;

/// <summary>
/// "stage:NAME" in a stage's field: what an earlier stage of the job wrote (a rejection-sampling stage's
/// dataset, a reward-model stage's model), found under the run directory when the job runs.
/// </summary>
static class StageReferences
{
    const string Prefix = "stage:";

    /// <summary>NAME of a "stage:NAME" reference; null for anything else (a path).</summary>
    public static string? Name(string value) => value.StartsWith(Prefix, StringComparison.Ordinal) ? value[Prefix.Length..] : null;

    /// <summary>
    /// Checks a "stage:NAME" reference in field key: NAME must be an earlier stage of the kind that writes
    /// what is wanted; the error says what NAME is not and lists those stages under <paramref name="listed"/>.
    /// </summary>
    public static string Check<TWriter>(SpecMap s, string key, string value, JobParseContext job, string what, string listed) where TWriter : StageSpec
    {
        string stage = Name(value) ?? throw new ArgumentException($"'{value}' is not a stage reference", nameof(value));
        var writers = job.EarlierStages.OfType<TWriter>().Select(e => e.Name).ToList();
        return writers.Contains(stage) ? value
            : throw s.ErrorAt(key, $"\"{stage}\" is not {what}; {listed}: {(writers.Count == 0 ? "none" : string.Join(", ", writers))}");
    }
}
