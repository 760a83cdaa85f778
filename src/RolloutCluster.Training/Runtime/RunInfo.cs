using System.Text.Json;
using System.Text.Json.Serialization;
using RolloutCluster.Data;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// rollout.json beside a checkpoint: which job, stage and step wrote it, and the prompt template and
/// task settings, so `rollout eval` prompts the model exactly as training did.
/// </summary>
public sealed record RunInfo(
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("template")] string Template,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("max_operand")] int MaxOperand,
    [property: JsonPropertyName("max_factor")] int MaxFactor,
    [property: JsonPropertyName("operators")] string Operators,
    [property: JsonPropertyName("test_size")] int TestSize)
{
    public const string FileName = "rollout.json";

    public ArithmeticSettings Arithmetic => new(MaxOperand, MaxFactor, Operators);

    public void Save(string dir) =>
        File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>The run info of a checkpoint, or null when it has none (e.g. one made by `rollout init`).</summary>
    public static RunInfo? Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<RunInfo>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new DatasetException($"{path}: not valid run info: {e.Message}"); }
    }
}
