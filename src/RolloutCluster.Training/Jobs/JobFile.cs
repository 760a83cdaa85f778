using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Rewards;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RolloutCluster.Training.Jobs;

/// <summary>
/// Parses job files. YAML and JSON share one schema (JSON is read as YAML flow syntax), so both get
/// the same line:column error messages. Every value is checked here, before anything runs.
/// </summary>
public static class JobFile
{
    /// <summary>Reads and validates a job file.</summary>
    public static JobSpec Load(string path)
    {
        if (!File.Exists(path)) throw new JobSpecException($"{path}: job file not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses job text; file names the source in messages.</summary>
    public static JobSpec Parse(string text, string file = "<inline>")
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException x) { throw new JobSpecException($"{file}:{x.Start.Line}:{x.Start.Column}: not valid YAML or JSON: {x.InnerException?.Message ?? x.Message}"); }
        if (stream.Documents.Count != 1) throw new JobSpecException($"{file}: expected one document, found {stream.Documents.Count}");
        var root = new SpecMap(file, stream.Documents[0].RootNode, "");

        var name = root.String("name");
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new JobSpecException($"{file}: name: expected letters, digits, '-', '_' or '.', found \"{name}\"");
        var spec = new JobSpec
        {
            Name = name,
            Seed = root.Long("seed", 0),
            OutputDir = root.String("output_dir", "runs"),
            Model = ParseModel(root.Map("model")),
            Task = ParseTask(root.Map("task")),
            Rewards = ParseRewards(root, file),
            Stages = ParseStages(root, file),
            Evaluation = root.OptionalMap("evaluation") is { } e ? ParseEval(e) : null,
            Checkpoint = root.OptionalMap("checkpoint") is { } c ? ParseCheckpoint(c) : new CheckpointSpec(),
            SourceFile = file,
        };
        root.Done();
        var stageNames = spec.Stages.Select(s => s.Name).ToList();
        if (stageNames.Distinct().Count() != stageNames.Count)
            throw new JobSpecException($"{file}: stages: stage names must be unique, found {string.Join(", ", stageNames)}");
        if (spec.Evaluation is { } eval && eval.After.FirstOrDefault(a => a != "start" && !stageNames.Contains(a)) is { } unknown)
            throw new JobSpecException($"{file}: evaluation.after: \"{unknown}\" is not a stage; known: start, {string.Join(", ", stageNames)}");
        return spec;
    }

    static ModelSpec ParseModel(SpecMap m)
    {
        var preset = m.OptionalString("preset", [.. ModelPresets.Names]);
        var checkpoint = m.OptionalString("checkpoint");
        if ((preset is null) == (checkpoint is null))
            throw m.Missing(preset is null ? "preset (or checkpoint)" : "preset or checkpoint, not both:");
        var spec = new ModelSpec(preset, checkpoint, m.Long("init_seed", 0), m.String("device", "auto"), m.Int("threads", 1, min: 1, max: 256));
        if (!(spec.Device is "auto" or "cpu" || spec.Device.StartsWith("cuda", StringComparison.Ordinal)))
            throw new JobSpecException($"{m.Path}.device: expected auto, cpu, cuda or cuda:N, found \"{spec.Device}\"");
        m.Done();
        return spec;
    }

    static TaskSpec ParseTask(SpecMap m)
    {
        var dataset = m.String("dataset");
        var template = m.String("template", "r1-zero", [.. PromptTemplate.All.Select(t => t.Name)]);
        var arithmetic = new ArithmeticSettings();
        if (m.OptionalMap("arithmetic") is { } a)
        {
            arithmetic = new ArithmeticSettings(a.Int("max_operand", 999, 1, 999_999), a.Int("max_factor", 9, 1, 9), a.String("operators", "+-*"));
            if (arithmetic.Validate() is { } problem) throw new JobSpecException($"{a.Path}: {problem}");
            a.Done();
        }
        var spec = new TaskSpec(dataset, template, arithmetic, m.Int("test_size", 500, min: 1, max: 100_000));
        if (!dataset.StartsWith("builtin:", StringComparison.Ordinal))
            throw new JobSpecException($"{m.Path}.dataset: expected builtin:arithmetic (file datasets arrive with the reward library), found \"{dataset}\"");
        if (dataset != "builtin:arithmetic")
            throw new JobSpecException($"{m.Path}.dataset: unknown built-in task \"{dataset}\"; known: builtin:arithmetic");
        m.Done();
        return spec;
    }

    static IReadOnlyList<RewardSpec> ParseRewards(SpecMap root, string file)
    {
        var rewards = new List<RewardSpec>();
        foreach (var (node, path) in root.List("rewards"))
        {
            var r = new SpecMap(file, node, path);
            var name = r.String("name", allowed: [.. RewardRegistry.Names]);
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var option in RewardRegistry.OptionsOf(name))
                if (r.OptionalString(option) is { } value) options[option] = value;
            var spec = new RewardSpec(name, r.Double("weight", 1.0), options);
            r.Done();
            try { RewardRegistry.Create(name, options, new RewardServices { CodeRunner = NoRunner.Instance, Http = NoRunner.Http }); }
            catch (ArgumentException e) { throw new JobSpecException($"{file}: {path}: {e.Message}"); }
            rewards.Add(spec);
        }
        if (rewards.Count == 0) throw root.Missing("rewards[0]");
        return rewards;
    }

    /// <summary>Stand-ins that let a reward's options be validated without starting a sandbox or a client.</summary>
    sealed class NoRunner : RolloutCluster.Rewards.Sandbox.ICodeRunner
    {
        public static readonly NoRunner Instance = new();
        public static readonly HttpClient Http = new();
        public Task<RolloutCluster.Rewards.Sandbox.ExecutionResult> RunAsync(string code, CancellationToken cancellation = default) => throw new InvalidOperationException("validation only");
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    static IReadOnlyList<StageSpec> ParseStages(SpecMap root, string file)
    {
        var stages = new List<StageSpec>();
        foreach (var (node, path) in root.List("stages"))
        {
            var s = new SpecMap(file, node, path);
            var kind = s.String("kind", allowed: ["sft", "grpo"]);
            stages.Add(kind == "sft" ? ParseSft(s) : ParseGrpo(s));
            s.Done();
        }
        if (stages.Count == 0) throw root.Missing("stages[0]");
        return stages;
    }

    static SftStageSpec ParseSft(SpecMap s)
    {
        var steps = s.Int("steps", min: 1);
        int batch = s.Int("batch_size", 16, min: 1);
        return new SftStageSpec(s.String("name"), steps, ParseOptimizer(s.Map("optimizer"), steps), s.Int("micro_batch_size", batch, min: 1),
            s.OptionalDouble("time_limit_minutes", 0, exclusiveMin: true), batch);
    }

    static GrpoStageSpec ParseGrpo(SpecMap s)
    {
        var steps = s.Int("steps", min: 1);
        var sampling = s.Map("sampling");
        var samplingSpec = new SamplingSpec((float)sampling.Double("temperature", 1.0, min: 0, exclusiveMin: true), (float)sampling.Double("top_p", 1.0, 0, 1, exclusiveMin: true),
            sampling.Int("top_k", 0, min: 0), sampling.Int("max_new_tokens", min: 1, max: 100_000));
        sampling.Done();
        var loss = s.OptionalMap("loss");
        var lossConfig = new PolicyLossConfig(
            loss?.Double("clip_low", 0.2, 0, 1) ?? 0.2,
            loss?.Double("clip_high", 0.28, 0, 10) ?? 0.28,
            loss?.OptionalDouble("dual_clip", 1, exclusiveMin: true),
            loss?.Double("is_cap", 2.0, 0, exclusiveMin: true) ?? 2.0,
            loss?.String("aggregation", LossAggregation.TokenMean, [.. LossAggregation.Modes]) ?? LossAggregation.TokenMean,
            samplingSpec.MaxNewTokens);
        loss?.Done();
        var kl = s.OptionalMap("kl");
        double klCoefficient = kl?.Double("coef", 0, min: 0) ?? 0;
        string klEstimator = kl?.String("estimator", "k3", [.. KlEstimators.Registry.Names]) ?? "k3";
        kl?.Done();
        var overlong = s.OptionalMap("overlong");
        var overlongSpec = new OverlongSpec(overlong?.String("mode", "none", "none", "mask", "penalty") ?? "none", overlong?.Int("buffer", 16, min: 1) ?? 16);
        overlong?.Done();
        if (overlongSpec.Mode == "penalty" && overlongSpec.Buffer > samplingSpec.MaxNewTokens)
            throw new JobSpecException($"{s.Path}.overlong.buffer: expected at most sampling.max_new_tokens ({samplingSpec.MaxNewTokens}), found {overlongSpec.Buffer}");
        int prompts = s.Int("prompts_per_step", min: 1), group = s.Int("group_size", min: 2);
        return new GrpoStageSpec(s.String("name"), steps, ParseOptimizer(s.Map("optimizer"), steps), s.Int("micro_batch_size", 64, min: 1),
            s.OptionalDouble("time_limit_minutes", 0, exclusiveMin: true), prompts, group, samplingSpec,
            s.String("advantage", "grpo", [.. Advantages.Registry.Names]), lossConfig, klCoefficient, klEstimator,
            s.Bool("dynamic_sampling", false), s.Int("max_sampling_rounds", 3, min: 1, max: 100), s.Double("oversample", 1.0, 1.0, 16.0), overlongSpec,
            s.Int("max_staleness", 0, min: 0, max: 1000), s.Bool("importance_correction", true));
    }

    static OptimizerConfig ParseOptimizer(SpecMap o, int steps)
    {
        var config = new OptimizerConfig
        {
            LearningRate = o.Double("lr", min: 0, exclusiveMin: true),
            WeightDecay = o.Double("weight_decay", 0, min: 0),
            Beta1 = o.Double("beta1", 0.9, 0, 1),
            Beta2 = o.Double("beta2", 0.999, 0, 1),
            Epsilon = o.Double("eps", 1e-8, 0, exclusiveMin: true),
            GradClip = o.Double("grad_clip", 1.0, min: 0),
            WarmupSteps = o.Int("warmup_steps", 0, min: 0),
            Schedule = o.String("schedule", "constant", "constant", "cosine"),
            MinLrRatio = o.Double("min_lr_ratio", 0, 0, 1),
            TotalSteps = steps,
        };
        o.Done();
        return config;
    }

    static EvalSpec ParseEval(SpecMap e)
    {
        var spec = new EvalSpec(e.String("dataset"), e.Int("samples", 1, min: 1, max: 1024), (float)e.Double("temperature", 1.0, min: 0),
            e.Int("max_new_tokens", min: 1), e.StringList("after"), e.Int("every_steps", 0, min: 0), e.Bool("skip_bad_lines", false));
        e.Done();
        if (!BuiltinDataset.IsBuiltin(spec.Dataset))
        {
            // A dataset file is read now, so a missing or malformed one fails the job before anything runs.
            try { JsonlReader.Read(spec.Dataset, DatasetFormats.GenericMath, spec.SkipBadLines); }
            catch (DatasetException x) { throw new JobSpecException($"{e.Path}.dataset: {x.Message}"); }
        }
        return spec;
    }

    static CheckpointSpec ParseCheckpoint(SpecMap c)
    {
        var spec = new CheckpointSpec(c.Int("every_steps", 0, min: 0), c.String("dtype", "float32", "float32", "bfloat16", "float16"));
        c.Done();
        return spec;
    }
}
