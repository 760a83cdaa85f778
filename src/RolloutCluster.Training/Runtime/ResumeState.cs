using System.Text.Json;
using System.Text.Json.Serialization;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// resume.json in a checkpoint written mid-stage (cancel, periodic): which stage, how many steps it
/// had done, how many prompts its data stream had yielded, and the weights version; with the model and
/// optimizer.bin beside it, enough to continue where the job stopped.
/// </summary>
public sealed record ResumeState(
    [property: JsonPropertyName("stage_index")] int StageIndex,
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("steps_done")] int StepsDone,
    [property: JsonPropertyName("prompts_consumed")] long PromptsConsumed,
    [property: JsonPropertyName("weights_version")] long WeightsVersion,
    [property: JsonPropertyName("reason")] string Reason)
{
    public const string FileName = "resume.json";
    public const string OptimizerFile = "optimizer.bin";

    public void Save(string dir) => File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }) + "\n");

    public static ResumeState? Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<ResumeState>(File.ReadAllText(path)) : null;
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

    public void Reset() => throw new NotSupportedException();
    public void Dispose() => inner.Dispose();
}
