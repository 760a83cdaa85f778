namespace RolloutCluster.Training.Evaluation;

/// <summary>
/// Held-out accuracy: pass@1 is the mean correctness of all samples (temperature sampling), pass@k
/// the share of problems with at least one correct sample among k, maj@k the share whose most
/// frequent answer among k (by equivalence class: <see cref="Rewards.Answers.AnswerVotes"/>) is correct.
/// <see cref="Scaling"/> gives both at n = 1, 2, 4, … k samples (<see cref="InferenceScaling"/>).
/// </summary>
public sealed record EvalResult(int Problems, int Samples, double PassAt1, double PassAtK, double MajAtK, double FormatRate,
    double MeanLength, double Seconds, IReadOnlyDictionary<string, double> PassAt1ByOperator)
{
    /// <summary>Problems each generator sampled (how evaluation spread over the cluster).</summary>
    public IReadOnlyDictionary<string, double> ProblemsByGenerator { get; init; } = new Dictionary<string, double>();

    /// <summary>With a reward model: samples per problem n → (best-of-n by its score, majority weighted by its probabilities).</summary>
    public IReadOnlyDictionary<int, (double BestOfN, double WeightedMajority)> Ranked { get; init; } = new Dictionary<int, (double, double)>();

    /// <summary>Self-refinement: accuracy after each round of feedback, round 0 being pass@1 (empty without refinement).</summary>
    public IReadOnlyList<double> Refinement { get; init; } = [];

    /// <summary>Self-refinement's control: the same rounds retrying wrong samples without the attempt or feedback.</summary>
    public IReadOnlyList<double> Resampling { get; init; } = [];

    /// <summary>The inference-scaling curve: samples per problem n → (pass@n, maj@n).</summary>
    public IReadOnlyDictionary<int, (double PassAtN, double MajAtN)> Scaling { get; init; } = new Dictionary<int, (double, double)>();

    /// <summary>Rebuilds a result from <see cref="ToMetrics"/>'s output (e.g. received in a progress event).</summary>
    public static EvalResult FromMetrics(string prefix, IReadOnlyDictionary<string, double> m, int samples)
    {
        double Get(string key) => m.TryGetValue($"{prefix}/{key}", out var v) ? v : double.NaN;
        IReadOnlyList<double> Rounds(string name) => m.ContainsKey($"{prefix}/{name}@1")
            ? [Get("pass@1"), .. Enumerable.Range(1, 64).TakeWhile(r => m.ContainsKey($"{prefix}/{name}@{r}")).Select(r => Get($"{name}@{r}"))] : [];
        var byOperator = m.Where(kv => kv.Key.StartsWith($"{prefix}/pass@1/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[($"{prefix}/pass@1/").Length..], kv => kv.Value);
        var byGenerator = m.Where(kv => kv.Key.StartsWith($"{prefix}/generator/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[($"{prefix}/generator/").Length..], kv => kv.Value);
        var scaling = Evaluator.ScalingSizes(samples).Where(n => m.ContainsKey($"{prefix}/maj@{n}"))
            .ToDictionary(n => n, n => (Get($"pass@{n}"), Get($"maj@{n}")));
        return new EvalResult((int)Get("problems"), samples, Get("pass@1"), Get($"pass@{samples}"), Get($"maj@{samples}"), Get("format"),
            Get("length_mean"), Get("seconds"), byOperator)
        {
            ProblemsByGenerator = byGenerator, Scaling = scaling,
            Refinement = Rounds("refine"),
            Resampling = Rounds("resample"),
        };
    }

    public IReadOnlyDictionary<string, double> ToMetrics(string prefix)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [$"{prefix}/pass@1"] = PassAt1,
            [$"{prefix}/pass@{Samples}"] = PassAtK,
            [$"{prefix}/maj@{Samples}"] = MajAtK,
            [$"{prefix}/format"] = FormatRate,
            [$"{prefix}/length_mean"] = MeanLength,
            [$"{prefix}/problems"] = Problems,
            [$"{prefix}/seconds"] = Seconds,
        };
        foreach (var (n, (pass, maj)) in Scaling)
        {
            if (n > 1) metrics[$"{prefix}/pass@{n}"] = pass;
            metrics[$"{prefix}/maj@{n}"] = maj;
        }
        foreach (var (n, (best, weighted)) in Ranked)
        {
            metrics[$"{prefix}/best_of@{n}"] = best;
            metrics[$"{prefix}/rm_maj@{n}"] = weighted;
        }
        for (int round = 1; round < Refinement.Count; round++) metrics[$"{prefix}/refine@{round}"] = Refinement[round];
        for (int round = 1; round < Resampling.Count; round++) metrics[$"{prefix}/resample@{round}"] = Resampling[round];
        foreach (var (op, value) in PassAt1ByOperator) metrics[$"{prefix}/pass@1/{op}"] = value;
        foreach (var (generator, problems) in ProblemsByGenerator) metrics[$"{prefix}/generator/{generator}"] = problems;
        return metrics;
    }
}
