using RolloutCluster.Rewards;
using RolloutCluster.Training.Curation;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using YamlDotNet.RepresentationModel;

namespace RolloutCluster.Training.Stages;

public sealed partial class RejectionSamplingStage
{
    /// <summary>The filters by name, each with its settings' defaults (R1 names the first three).</summary>
    public static readonly IReadOnlyList<string> FilterNames = ["language_mixing", "long_paragraphs", "code_blocks", "repetition"];

    public StageSpec Parse(SpecMap s, string name, JobParseContext job)
    {
        // Kept means verified correct (unless verify: false): the job must have a verifier among its rewards.
        bool verify = s.Bool("verify", true);
        var correctness = verify ? RequireVerifier(s, job, "a rejection-sampling stage keeps samples its verifier accepts (or set verify: false)")
            : job.Rewards.Any(r => r.Name is "accuracy" or "math" or "code") ? Evaluator.Correctness(job.Rewards) : null;
        string? teacher = s.OptionalString("teacher") is { } dir ? CheckTeacher(s, job, job.Resolve(dir)) : null;
        int samples = s.Int("samples", min: 1, max: 1024);
        var sampling = GrpoStage.ParseSampling(s.Map("sampling"));
        var filters = s.Has("filters") ? s.List("filters").Select(item => ParseFilter(s, item.Node, item.Path)).ToList()
            : FilterNames.Select(f => MakeFilter(f, null)).ToList();
        if (filters.Select(f => f.Name).GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw s.ErrorAt("filters", $"filter \"{twice.Key}\" is listed twice");
        return new RejectionSamplingStageSpec(name, s.Int("prompts", min: 1, max: 10_000_000), samples, sampling,
            s.Int("keep_per_prompt", samples, min: 1, max: samples), s.Bool("dedupe", true), filters, correctness, teacher, verify);
    }

    /// <summary>The job's verifier (its first of accuracy, math, code) for a stage that needs one; refused, naming why, when there is none or the task cannot feed it.</summary>
    public static RewardSpec RequireVerifier(SpecMap s, JobParseContext job, string why)
    {
        if (job.Rewards.FirstOrDefault(r => r.Name is "accuracy" or "math" or "code") is null)
            throw s.ErrorAt("kind", $"{why}, but the job's rewards ({string.Join(", ", job.Rewards.Select(r => r.Name))}) have none: add accuracy, math or code to rewards");
        var correctness = Evaluator.Correctness(job.Rewards);
        if (job.TrainProblems is { } problems && JobFile.Unfed(correctness.Name, problems, job.Task.Dataset, job.Task) is { } fault) throw s.ErrorAt("kind", fault);
        return correctness;
    }

    /// <summary>A teacher checkpoint must be one this system loads (config and tokenizer read now, weights at run time).</summary>
    static string CheckTeacher(SpecMap s, JobParseContext job, string dir)
    {
        try
        {
            var config = RolloutCluster.Model.ModelConfig.Load(Path.Combine(dir, RolloutCluster.Model.Checkpoints.Checkpoint.ConfigFile));
            if (config.Validate() is { } problem) throw new RolloutCluster.Model.ModelFormatException(dir, problem);
            RolloutCluster.Model.Tokenizers.TokenizerJson.Load(Path.Combine(dir, RolloutCluster.Model.Checkpoints.Checkpoint.TokenizerFile));
        }
        catch (RolloutCluster.Model.ModelFormatException e) { throw s.ErrorAt("teacher", e.Message); }
        return dir;
    }

    static ISampleFilter ParseFilter(SpecMap stage, YamlNode node, string path)
    {
        if (node is YamlScalarNode { Value: { } scalar })
            return FilterNames.Contains(scalar) ? MakeFilter(scalar, null) : throw stage.Error(node, path, UnknownFilter(scalar));
        var map = new SpecMap(stage.File, node, path);
        var name = map.String("name");
        if (!FilterNames.Contains(name)) throw map.ErrorAt("name", UnknownFilter(name));
        var filter = MakeFilter(name, map);
        map.Done();
        return filter;
    }

    static string UnknownFilter(string name) => $"unknown filter \"{name}\"; known: {string.Join(", ", FilterNames)}";

    static ISampleFilter MakeFilter(string name, SpecMap? m) => name switch
    {
        "language_mixing" => new LanguageMixingFilter(m?.String("script", "latin", [.. LanguageReward.KnownScripts]) ?? "latin", m?.Double("min_share", 0.95, 0, 1) ?? 0.95),
        "long_paragraphs" => new LongParagraphFilter(m?.Int("max_chars", 1000, min: 1) ?? 1000),
        "code_blocks" => new CodeBlockFilter(),
        "repetition" => new RepetitionFilter(m?.Int("n", 4, min: 1, max: 64) ?? 4, m?.Double("max_ratio", 0.5, 0, 1) ?? 0.5),
        _ => throw new ArgumentException($"unknown filter {name}"),
    };
}
