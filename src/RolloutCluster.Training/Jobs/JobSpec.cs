using RolloutCluster.Algorithms;
using RolloutCluster.Data;

namespace RolloutCluster.Training.Jobs;

/// <summary>A training job as a job file (YAML or JSON, one schema) describes it. See examples/arithmetic-grpo.yaml.</summary>
public sealed record JobSpec
{
    public required string Name { get; init; }
    public long Seed { get; init; }

    /// <summary>Where runs/&lt;name&gt; goes, relative to the job file's directory's parent when relative ("runs").</summary>
    public string OutputDir { get; init; } = "runs";
    public required ModelSpec Model { get; init; }
    public required TaskSpec Task { get; init; }
    public required IReadOnlyList<RewardSpec> Rewards { get; init; }
    public required IReadOnlyList<StageSpec> Stages { get; init; }
    public EvalSpec? Evaluation { get; init; }
    public CheckpointSpec Checkpoint { get; init; } = new();

    /// <summary>The file this spec came from (for messages), or "&lt;inline&gt;".</summary>
    public string SourceFile { get; init; } = "<inline>";
}

/// <summary>Where the policy comes from and where it runs.</summary>
/// <param name="Preset">A built-in architecture (ModelPresets) initialised at random with InitSeed; or null when Checkpoint is set.</param>
/// <param name="Checkpoint">A Hugging Face checkpoint directory to start from.</param>
public sealed record ModelSpec(string? Preset, string? Checkpoint, long InitSeed, string Device, int Threads);

/// <summary>The task: a dataset (builtin:arithmetic or a JSONL file), a prompt template and the held-out split's size.</summary>
public sealed record TaskSpec(string Dataset, string Template, ArithmeticSettings Arithmetic, int TestSize);

/// <summary>A reward function with its weight and options (e.g. length's effort, http's url).</summary>
public sealed record RewardSpec(string Name, double Weight, IReadOnlyDictionary<string, string>? Options = null)
{
    public bool Equals(RewardSpec? other) => other is not null && Name == other.Name && Weight == other.Weight &&
        (Options ?? new Dictionary<string, string>()).OrderBy(x => x.Key).SequenceEqual((other.Options ?? new Dictionary<string, string>()).OrderBy(x => x.Key));

    public override int GetHashCode() => HashCode.Combine(Name, Weight);
}

/// <summary>One stage of a pipeline job.</summary>
public abstract record StageSpec(string Name, int Steps, OptimizerConfig Optimizer, int MicroBatchSize, double? TimeLimitMinutes)
{
    public abstract string Kind { get; }
}

/// <summary>Supervised fine-tuning on worked solutions (cold start).</summary>
public sealed record SftStageSpec(string Name, int Steps, OptimizerConfig Optimizer, int MicroBatchSize, double? TimeLimitMinutes, int BatchSize)
    : StageSpec(Name, Steps, Optimizer, MicroBatchSize, TimeLimitMinutes)
{
    public override string Kind => "sft";
}

/// <summary>How completions are sampled during RL.</summary>
public sealed record SamplingSpec(float Temperature, float TopP, int TopK, int MaxNewTokens);

/// <summary>Truncated completions: "none", "mask" (DAPO overlong filtering) or "penalty" (soft overlong punishment over Buffer tokens).</summary>
public sealed record OverlongSpec(string Mode, int Buffer);

/// <summary>
/// GRPO with verifiable rewards. With dynamic sampling, each round samples Oversample times the
/// groups still missing (fewer, larger sampling batches), for at most MaxSamplingRounds rounds.
/// </summary>
public sealed record GrpoStageSpec(string Name, int Steps, OptimizerConfig Optimizer, int MicroBatchSize, double? TimeLimitMinutes,
    int PromptsPerStep, int GroupSize, SamplingSpec Sampling, string Advantage, PolicyLossConfig Loss, double KlCoefficient, string KlEstimator,
    bool DynamicSampling, int MaxSamplingRounds, double Oversample, OverlongSpec Overlong, int MaxStaleness, bool ImportanceCorrection)
    : StageSpec(Name, Steps, Optimizer, MicroBatchSize, TimeLimitMinutes)
{
    public override string Kind => "grpo";
}

/// <summary>Held-out evaluation: k samples per problem give pass@1, pass@k and maj@k.</summary>
/// <param name="After">Stage names after which to evaluate; "start" evaluates the initial model.</param>
/// <param name="EverySteps">Also evaluate every N steps inside GRPO stages (0 = only after stages), for a learning curve.</param>
/// <param name="SkipBadLines">For a JSONL dataset: skip (and report) malformed lines instead of rejecting the job.</param>
public sealed record EvalSpec(string Dataset, int Samples, float Temperature, int MaxNewTokens, IReadOnlyList<string> After, int EverySteps = 0, bool SkipBadLines = false);

/// <summary>Checkpoints: every N optimizer steps within a stage (0 = only at stage ends), in a dtype.</summary>
public sealed record CheckpointSpec(int EverySteps = 0, string DType = "float32");
