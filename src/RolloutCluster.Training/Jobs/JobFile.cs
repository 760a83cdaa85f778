using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Data.Datasets;
using RolloutCluster.Model;
using RolloutCluster.Model.Lora;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Stages;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RolloutCluster.Training.Jobs;

/// <summary>
/// Parses job files. YAML and JSON share one schema (JSON is read as YAML flow syntax), so both get
/// the same file:line:column error messages. Every value is checked here, before anything runs:
/// datasets are read, rewards are matched to what the task's rows carry, sizes are checked against
/// the machine. Stages parse their own sections (<see cref="StageKinds"/>).
/// </summary>
public static class JobFile
{
    /// <summary>Reads and validates a job file, with `--set` overrides applied.</summary>
    public static JobSpec Load(string path, IReadOnlyList<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new JobSpecException($"{path}: job file not found");
        return Parse(File.ReadAllText(path), path, overrides, Directory.GetCurrentDirectory());
    }

    /// <summary>Parses job text; file names the source in messages; relative dataset paths start at baseDirectory (the submitter's working directory).</summary>
    public static JobSpec Parse(string text, string file = "<inline>", IReadOnlyList<string>? overrides = null, string? baseDirectory = null)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException x) { throw new JobSpecException($"{file}:{x.Start.Line}:{x.Start.Column}: not valid YAML or JSON: {x.InnerException?.Message ?? x.Message}"); }
        if (stream.Documents.Count != 1) throw new JobSpecException($"{file}:1:1: expected one document, found {stream.Documents.Count}");
        var rootNode = stream.Documents[0].RootNode;
        if (overrides is { Count: > 0 }) JobOverrides.Apply(rootNode, overrides);
        var root = new SpecMap(file, rootNode, "");
        var context = new JobParseContext(file, baseDirectory ?? Directory.GetCurrentDirectory());

        var name = root.String("name");
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw root.ErrorAt("name", $"expected letters, digits, '-', '_' or '.', found \"{name}\"");
        context.Model = ParseModel(root.Map("model"));
        context.Task = ParseTask(root.Map("task"), context);
        context.Rewards = ParseRewards(root, context, stageRewards: false);
        var checkpoint = root.OptionalMap("checkpoint") is { } c ? ParseCheckpoint(c) : new CheckpointSpec();
        var stages = ParseStages(root, context);
        var spec = new JobSpec
        {
            Name = name,
            Seed = root.Long("seed", 0),
            OutputDir = root.String("output_dir", "runs"),
            Model = context.Model,
            Task = context.Task,
            Rewards = context.Rewards,
            Stages = stages,
            Evaluation = root.OptionalMap("evaluation") is { } e ? ParseEval(e, stages, context) : null,
            Checkpoint = checkpoint,
            MemoryLimitGb = root.OptionalDouble("memory_limit_gb", 0, exclusiveMin: true),
            SourceFile = file,
        };
        root.Done();
        CheckTaskFeedsRewards(root, spec, context.TrainProblems);
        return spec;
    }

    static ModelSpec ParseModel(SpecMap m)
    {
        var preset = m.OptionalString("preset", [.. ModelPresets.Names]);
        var checkpoint = m.OptionalString("checkpoint");
        if ((preset is null) == (checkpoint is null))
            throw preset is null ? m.Missing("preset (or checkpoint)") : m.ErrorAt("checkpoint", "set preset or checkpoint, not both");
        var spec = new ModelSpec(preset, checkpoint is null ? null : Path.GetFullPath(checkpoint), m.Long("init_seed", 0), m.String("device", "auto"),
            m.Int("threads", 1, min: 1, max: 256));
        if (!(spec.Device is "auto" or "cpu" || spec.Device.StartsWith("cuda", StringComparison.Ordinal)))
            throw m.ErrorAt("device", $"expected auto, cpu, cuda or cuda:N, found \"{spec.Device}\"");
        if (checkpoint is not null && !File.Exists(Path.Combine(spec.Checkpoint!, "config.json")))
            throw m.ErrorAt("checkpoint", $"{spec.Checkpoint}: not a checkpoint directory (no config.json)");
        spec = ParseLora(m, spec) with
        {
            ActivationCheckpointing = m.Bool("activation_checkpointing", false),
            SampleDType = m.OptionalString("sample_dtype", "float32", "bfloat16", "float16"),
        };
        if (spec.ActivationCheckpointing && spec.Lora is { Dropout: > 0 })
            throw m.ErrorAt("activation_checkpointing", "recomputing each layer needs it to compute the same thing twice; set lora.dropout to 0");
        m.Done();
        return spec;
    }

    /// <summary>model.lora (rank, alpha, dropout, target_modules) or model.adapter (a PEFT adapter directory, checked against the base's shapes).</summary>
    static ModelSpec ParseLora(SpecMap m, ModelSpec spec)
    {
        var l = m.OptionalMap("lora");
        var adapter = m.OptionalString("adapter");
        if (l is not null && adapter is not null) throw m.ErrorAt("adapter", "set lora or adapter, not both (an adapter brings its own settings)");
        if (l is null && adapter is null) return spec;
        var config = spec.Checkpoint is { } dir ? ModelConfig.Load(Path.Combine(dir, "config.json")) : ModelPresets.Get(spec.Preset!, 256);
        if (adapter is not null)
        {
            var path = Path.GetFullPath(adapter);
            try { return spec with { Lora = LoraShapes.Check(path, config), Adapter = path }; }
            catch (ModelFormatException e) { throw m.ErrorAt("adapter", e.Message); }
        }
        int rank = l!.Int("rank", 16, min: 1, max: 4096);
        var targets = l.Has("target_modules") ? l.StringList("target_modules") : LoraConfig.Modules;
        if (targets.FirstOrDefault(t => !LoraConfig.Modules.Contains(t)) is { } unknown)
            throw l.ErrorAt("target_modules", $"unknown module \"{unknown}\"; known: {string.Join(", ", LoraConfig.Modules)}");
        if (targets.Count == 0) throw l.ErrorAt("target_modules", "expected at least one module");
        var lora = new LoraConfig(rank, l.Double("alpha", 2.0 * rank, min: 0, exclusiveMin: true), l.Double("dropout", 0, 0, 0.99), targets.Distinct().ToList(),
            spec.Checkpoint ?? spec.Preset);
        l.Done();
        return spec with { Lora = lora };
    }

    static TaskSpec ParseTask(SpecMap m, JobParseContext context)
    {
        var dataset = context.Resolve(m.String("dataset"));
        var arithmetic = new ArithmeticSettings();
        if (m.OptionalMap("arithmetic") is { } a)
        {
            arithmetic = new ArithmeticSettings(a.Int("max_operand", 999, 1, 999_999), a.Int("max_factor", 9, 1, 9), a.String("operators", "+-*"));
            if (arithmetic.Validate() is { } problem) throw a.ErrorHere(problem);
            a.Done();
        }
        var test = m.OptionalString("test");
        var spec = new TaskSpec
        {
            Dataset = dataset,
            Template = m.String("template", "r1-zero", [.. PromptTemplate.All.Select(t => t.Name)]),
            System = m.OptionalString("system"),
            EffortLine = m.String("effort_line", "first", "first", "last"),
            Arithmetic = arithmetic,
            TestSize = m.Int("test_size", 500, min: 1, max: 1_000_000),
            TestLimit = m.Has("test_size") ? m.Int("test_size", min: 1, max: 1_000_000) : null,
            Format = m.String("format", "generic", [.. ProblemFormats.Names]),
            Fields = m.StringMap("fields"),
            Test = test is null ? null : context.Resolve(test),
            SkipBadRows = m.String("bad_rows", "error", "error", "skip") == "skip",
            Epochs = m.OptionalString("epochs") is null ? null : m.Int("epochs", min: 1, max: 1_000_000),
            Shuffle = m.Bool("shuffle", true),
            MaxPromptTokens = m.OptionalString("max_prompt_tokens") is null ? null : m.Int("max_prompt_tokens", min: 1, max: 10_000_000),
        };
        if (spec.Fields?.Keys.FirstOrDefault(k => !ProblemFormats.Fields.Contains(k)) is { } unknown)
            throw m.ErrorAt("fields", $"unknown field '{unknown}'; known: {string.Join(", ", ProblemFormats.Fields)}");
        if (spec.System is not null && spec.Template != PromptTemplate.Chat.Name)
            throw m.ErrorAt("system", "a system message needs template: chat (the model's chat template renders it)");
        if (spec.EffortLine == "last" && spec.Template == PromptTemplate.Chat.Name)
            throw m.ErrorAt("effort_line", "with template: chat the effort goes in the system message; effort_line is for the other templates");
        if (spec.Template == PromptTemplate.Chat.Name)
        {
            // The model's tokenizer_config.json must carry a chat template: presets are byte-level models without one.
            var config = context.Model.Checkpoint is { } dir ? Path.Combine(dir, "tokenizer_config.json") : null;
            var text = config is not null && File.Exists(config) ? File.ReadAllText(config) : null;
            if (text is null || System.Text.Json.Nodes.JsonNode.Parse(text)?["chat_template"] is null)
                throw m.ErrorAt("template", config is null
                    ? $"template: chat needs the model's chat template, but preset {context.Model.Preset} has none; start from a checkpoint whose tokenizer_config.json has a chat_template"
                    : $"template: chat needs a chat_template in {config}, and it has none");
        }
        m.Done();
        try
        {
            // Read once: the reward check below uses the same rows.
            var train = BuiltinDataset.IsBuiltin(spec.Dataset) ? null : new DatasetSource(spec.Dataset, spec.Format, spec.Fields, spec.SkipBadRows).Load();
            TaskData.Load(spec.ToSource(), 0, train);
            context.TrainProblems = train?.Problems;
        }
        catch (DatasetException e) { throw m.ErrorAt(e.Message.StartsWith("test:", StringComparison.Ordinal) || (spec.Test is { } t && e.Message.Contains(t, StringComparison.Ordinal)) ? "test" : "dataset", e.Message); }
        return spec;
    }

    /// <summary>A rewards list (the job's, or a stage's own): each name known, its options valid, at least one.</summary>
    public static IReadOnlyList<RewardSpec> ParseRewards(SpecMap root, JobParseContext job, bool stageRewards)
    {
        var rewards = new List<RewardSpec>();
        foreach (var (node, path) in root.List("rewards"))
        {
            var r = new SpecMap(root.File, node, path);
            var name = r.String("name", allowed: [.. RewardRegistry.Names]);
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var option in RewardRegistry.OptionsOf(name))
                if (r.OptionalString(option) is { } value) options[option] = value;
            if (name == "model" && options.TryGetValue("path", out var modelPath)) options["path"] = Stages.RewardModelReference.Parse(r, "path", modelPath, job, stageRewards ? null
                : "the job's rewards serve every stage, so they cannot use a model an earlier stage trains: put this reward in the rewards of the GRPO stage that follows it");
            var spec = new RewardSpec(name, r.Double("weight", 1.0), options);
            r.Done();
            try { RewardRegistry.Create(name, options, new RewardServices { CodeRunner = NoRunner.Instance, Http = NoRunner.Http, RewardModels = NoRunner.Instance }); }
            catch (ArgumentException e) { throw r.ErrorHere(e.Message); }
            rewards.Add(spec);
        }
        if (rewards.Count == 0) throw root.Missing("rewards[0]");
        return rewards;
    }

    /// <summary>A reward the task cannot feed (code without tests, math without answers) refuses the job, naming the field.</summary>
    static void CheckTaskFeedsRewards(SpecMap root, JobSpec spec, IReadOnlyList<Problem>? problems)
    {
        if (problems is null) return;   // the built-in task has answers
        var rewards = root.List("rewards");
        for (int i = 0; i < spec.Rewards.Count; i++)
            if (Unfed(spec.Rewards[i].Name, problems, spec.Task.Dataset, spec.Task) is { } fault) throw root.Error(rewards[i].Node, $"rewards[{i}]", fault);
    }

    /// <summary>Why a reward cannot score a dataset's problems (code needs tests, math and accuracy need answers), or null.</summary>
    public static string? Unfed(string reward, IReadOnlyList<Problem> problems, string dataset, TaskSpec task)
    {
        string Column(string field) => ProblemFormats.Columns(task.Format, task.Fields).GetValueOrDefault(field, field);
        return reward switch
        {
            "code" when problems.FirstOrDefault(p => !p.HasTests) is { } p =>
                $"reward 'code' runs each problem's tests, but problem {p.Id} of {dataset} has none (task.fields.tests, column '{Column("tests")}')",
            "math" or "accuracy" when problems.FirstOrDefault(p => p.Answer.Length == 0) is { } p =>
                $"reward '{reward}' compares with each problem's answer, but problem {p.Id} of {dataset} has none (task.fields.answer, column '{Column("answer")}')",
            _ => null,
        };
    }

    /// <summary>Stand-ins that let a reward's options be validated without starting a sandbox or a client.</summary>
    sealed class NoRunner : RolloutCluster.Rewards.Sandbox.ICodeRunner, IRewardModelSource, IRewardModelScorer
    {
        public string Scope => "trace";
        public IRewardModelScorer Open(string dir) => this;
        public ValueTask<IReadOnlyList<double>> ScoreAsync(IReadOnlyList<(string Context, string Completion)> items, CancellationToken cancellation = default) => throw new InvalidOperationException("validation only");
        public static readonly NoRunner Instance = new();
        public static readonly HttpClient Http = new();
        public Task<RolloutCluster.Rewards.Sandbox.ExecutionResult> RunAsync(string code, CancellationToken cancellation = default) => throw new InvalidOperationException("validation only");
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    static IReadOnlyList<StageSpec> ParseStages(SpecMap root, JobParseContext context)
    {
        var stages = new List<StageSpec>();
        foreach (var (node, path) in root.List("stages"))
        {
            var s = new SpecMap(root.File, node, path);
            var kindName = s.String("kind");
            var kind = StageKinds.Find(kindName) ?? throw s.ErrorAt("kind", $"unknown stage kind \"{kindName}\"; known: {string.Join(", ", StageKinds.Names)}");
            var name = s.String("name");
            if (stages.Any(x => x.Name == name)) throw s.ErrorAt("name", $"stage names must be unique; \"{name}\" is already used");
            context.EarlierStages = [.. stages];
            stages.Add(kind.Parse(s, name, context));
            s.Done();
        }
        if (stages.Count == 0) throw root.Missing("stages[0]");
        return stages;
    }

    /// <summary>An optimizer section; steps is the stage's, for schedules.</summary>
    public static OptimizerConfig ParseOptimizer(SpecMap o, int steps)
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

    static EvalSpec ParseEval(SpecMap e, IReadOnlyList<StageSpec> stages, JobParseContext context)
    {
        var dataset = e.OptionalString("dataset");
        var spec = new EvalSpec(dataset is null ? null : context.Resolve(dataset), e.Int("samples", 1, min: 1, max: 1024), (float)e.Double("temperature", 1.0, min: 0),
            e.Int("max_new_tokens", min: 1, max: 100_000), e.StringList("after"), e.Int("every_steps", 0, min: 0));
        e.Done();
        if (spec.Dataset is { } path) context.CheckDataset(e, "dataset", path);
        else if (!BuiltinDataset.IsBuiltin(context.Task.Dataset) && context.Task.Test is null)
            throw e.ErrorAt("dataset", "no dataset to evaluate on: name one here, or give the task a test set (task.test: a file or holdout:N)");
        var names = stages.Select(s => s.Name).ToList();
        if (spec.After.FirstOrDefault(a => a != "start" && !names.Contains(a)) is { } unknown)
            throw e.ErrorAt("after", $"\"{unknown}\" is not a stage; known: start, {string.Join(", ", names)}");
        context.CheckMemory(e, "samples", 64.0 * spec.Samples * JobParseContext.BytesPerSequence(context.Task.MaxPromptTokens ?? 256, spec.MaxNewTokens),
            $"evaluation requests of 64 problems x {spec.Samples} samples");
        return spec;
    }

    static CheckpointSpec ParseCheckpoint(SpecMap c)
    {
        var size = c.String("max_shard_size", "5GB");
        var spec = new CheckpointSpec(c.Int("every_steps", 0, min: 0), c.String("dtype", "float32", "float32", "bfloat16", "float16"),
            RolloutCluster.Model.Checkpoints.CheckpointShards.ParseSize(size) ?? throw c.ErrorAt("max_shard_size", $"expected a size such as 2GB or 500MB, found \"{size}\""));
        c.Done();
        return spec;
    }
}
