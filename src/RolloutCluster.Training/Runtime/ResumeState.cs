using System.Text.Json;
using System.Text.Json.Serialization;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// resume.json in a checkpoint a job can continue from: which stage, how many of its steps were done,
/// how far its data stream had been consumed, the weights version and the group accounting so far.
/// With the model (saved in its own dtype) and optimizer.bin beside it, the job continues exactly:
/// row seeds derive from the step, never from timing. Written periodically, on cancel, and after each
/// stage (pointing at the next stage's first step).
/// </summary>
public sealed record ResumeState(
    [property: JsonPropertyName("stage_index")] int StageIndex,
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("steps_done")] int StepsDone,
    [property: JsonPropertyName("prompts_consumed")] long PromptsConsumed,
    [property: JsonPropertyName("weights_version")] long WeightsVersion,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("groups")] Dictionary<string, long>? Groups = null)
{
    public const string FileName = "resume.json";
    public const string OptimizerFile = "optimizer.bin";

    /// <summary>Writes resume.json last and atomically: a checkpoint cut short by a crash is never taken for a resumable one.</summary>
    public void Save(string dir)
    {
        var path = Path.Combine(dir, FileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static ResumeState? Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<ResumeState>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a resume state: {e.Message}", e); }
    }
}

/// <summary>A resumable checkpoint directory and what its resume.json says.</summary>
public sealed record ResumePoint(string Directory, ResumeState State)
{
    /// <summary>The furthest resumable checkpoint under runDirectory/checkpoints, or null when there is none.</summary>
    public static ResumePoint? Latest(string runDirectory)
    {
        var root = Path.Combine(runDirectory, "checkpoints");
        if (!System.IO.Directory.Exists(root)) return null;
        return System.IO.Directory.EnumerateDirectories(root)
            .Select(d => (Dir: d, State: ResumeState.Load(d)))
            .Where(x => x.State is not null)
            .OrderBy(x => x.State!.StageIndex).ThenBy(x => x.State!.StepsDone)
            .Select(x => new ResumePoint(x.Dir, x.State!))
            .LastOrDefault();
    }
}

/// <summary>Counts what an enumerator yields, so a stage can say how far into its data stream it got.</summary>
public sealed class CountingEnumerator<T>(IEnumerator<T> inner) : IEnumerator<T>
{
    public long Yielded { get; private set; }
    public T Current => inner.Current;
    object? System.Collections.IEnumerator.Current => Current;

    public bool MoveNext()
    {
        bool moved = inner.MoveNext();
        if (moved) Yielded++;
        return moved;
    }

    /// <summary>Skips what an earlier run of the stage consumed.</summary>
    public void Skip(long count)
    {
        for (long i = 0; i < count && MoveNext(); i++) { }
    }

    public void Reset() => throw new NotSupportedException();
    public void Dispose() => inner.Dispose();
}
