using RolloutCluster.Data;
using RolloutCluster.Rewards;

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

    /// <summary>memory_limit_gb: the memory (GiB) the job's process may hold before the job is stopped; null: 90% of the machine's.</summary>
    public double? MemoryLimitGb { get; init; }

    /// <summary>The file this spec came from (for messages), or "&lt;inline&gt;".</summary>
    public string SourceFile { get; init; } = "<inline>";
}

/// <summary>Where the policy comes from and where it runs.</summary>
/// <param name="Preset">A built-in architecture (ModelPresets) initialised at random with InitSeed; or null when Checkpoint is set.</param>
/// <param name="Checkpoint">A Hugging Face checkpoint directory to start from.</param>
/// <param name="Lora">Train LoRA adapters on a frozen base instead of the whole model (null: the whole model).</param>
/// <param name="Adapter">A PEFT adapter directory whose weights the adapters start from (its settings are Lora's).</param>
/// <param name="ActivationCheckpointing">Recompute each decoder layer's activations in the backward pass instead of keeping them.</param>
/// <param name="SampleDType">The dtype generators sample in (float32, bfloat16, float16; null: the model's own); the learner keeps its own.</param>
public sealed record ModelSpec(string? Preset, string? Checkpoint, long InitSeed, string Device, int Threads,
    RolloutCluster.Model.Lora.LoraConfig? Lora = null, string? Adapter = null, bool ActivationCheckpointing = false, string? SampleDType = null);

/// <summary>
/// The task: a dataset (builtin:arithmetic or a JSONL / JSON / Parquet file read with a format and a
/// field mapping), a test source, a prompt template, and how training goes through the data.
/// </summary>
public sealed record TaskSpec
{
    public required string Dataset { get; init; }
    public string Template { get; init; } = "r1-zero";

    /// <summary>A system message for the chat template (template: chat), unless a row's conversation has its own.</summary>
    public string? System { get; init; }

    /// <summary>
    /// Where a prompt's effort line goes without a chat template: "first" (before the question; a policy
    /// trained without it keeps working) or "last" (right before the answer, for a policy that learns the
    /// line from its cold start: the level is then a few tokens from the choice it should steer).
    /// </summary>
    public string EffortLine { get; init; } = "first";
    public ArithmeticSettings Arithmetic { get; init; } = new();
    public int TestSize { get; init; } = 500;

    /// <summary>test_size as the job file gave it: for a test file, how many of its first rows to keep (null: all).</summary>
    public int? TestLimit { get; init; }
    public string Format { get; init; } = "generic";
    public IReadOnlyDictionary<string, string>? Fields { get; init; }
    public string? Test { get; init; }
    public bool SkipBadRows { get; init; }
    public int? Epochs { get; init; }
    public bool Shuffle { get; init; } = true;

    /// <summary>Problems whose prompt is longer (in the policy's tokens) are dropped, and the counts reported.</summary>
    public int? MaxPromptTokens { get; init; }

    public TaskSource ToSource() => new(Dataset, Format, Fields, Test, SkipBadRows, Epochs, Shuffle, Arithmetic, TestSize, TestLimit);
}

/// <summary>One stage of a pipeline job: its name, its kind (a registered <see cref="Stages.IStage"/>) and its steps.</summary>
public abstract record StageSpec(string Name, string Kind, int Steps);

/// <summary>How completions are sampled.</summary>
/// <param name="MaxBatchTokens">
/// Rows x (longest prompt + max_new_tokens) per sampling pass, the tokens its KV cache holds; 0 leaves
/// passes to the row cap alone. Rows are cut into passes in order; each row keeps its own seed.
/// </param>
public sealed record SamplingSpec(float Temperature, float TopP, int TopK, int MaxNewTokens, int MaxBatchTokens = 0);

/// <summary>Truncated completions: "none", "mask" (DAPO overlong filtering) or "penalty" (soft overlong punishment over Buffer tokens).</summary>
public sealed record OverlongSpec(string Mode, int Buffer);

/// <summary>Held-out evaluation after stages: k samples per problem give pass@1, pass@k and maj@k.</summary>
/// <param name="Dataset">A built-in reference or a file read with the task's format and fields; null: the task's test set.</param>
/// <param name="After">Stage names after which to evaluate; "start" evaluates the initial model.</param>
/// <param name="EverySteps">Also evaluate every N steps inside GRPO stages (0 = only after stages), for a learning curve.</param>
public sealed record EvalSpec(string? Dataset, int Samples, float Temperature, int MaxNewTokens, IReadOnlyList<string> After, int EverySteps = 0);

/// <summary>Checkpoints: every N optimizer steps within a stage (0 = only at stage ends), in a dtype, sharded above ShardBytes.</summary>
public sealed record CheckpointSpec(int EverySteps = 0, string DType = "float32", long ShardBytes = RolloutCluster.Model.Checkpoints.Checkpoint.DefaultShardBytes);
