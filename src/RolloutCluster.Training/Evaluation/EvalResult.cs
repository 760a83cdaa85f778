namespace RolloutCluster.Training.Evaluation;

/// <summary>
/// Held-out accuracy: pass@1 is the mean correctness of all samples (temperature sampling), pass@k
/// the share of problems with at least one correct sample among k, maj@k the share whose most
/// frequent answer among k is correct.
/// </summary>
public sealed record EvalResult(int Problems, int Samples, double PassAt1, double PassAtK, double MajAtK, double FormatRate,
    double MeanLength, double Seconds, IReadOnlyDictionary<string, double> PassAt1ByOperator)
{
    /// <summary>Problems each generator sampled (how evaluation spread over the cluster).</summary>
    public IReadOnlyDictionary<string, double> ProblemsByGenerator { get; init; } = new Dictionary<string, double>();

    /// <summary>Rebuilds a result from <see cref="ToMetrics"/>'s output (e.g. received in a progress event).</summary>
    public static EvalResult FromMetrics(string prefix, IReadOnlyDictionary<string, double> m, int samples)
    {
        double Get(string key) => m.TryGetValue($"{prefix}/{key}", out var v) ? v : double.NaN;
        var byOperator = m.Where(kv => kv.Key.StartsWith($"{prefix}/pass@1/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[($"{prefix}/pass@1/").Length..], kv => kv.Value);
        var byGenerator = m.Where(kv => kv.Key.StartsWith($"{prefix}/generator/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[($"{prefix}/generator/").Length..], kv => kv.Value);
        return new EvalResult((int)Get("problems"), samples, Get("pass@1"), Get($"pass@{samples}"), Get($"maj@{samples}"), Get("format"),
            Get("length_mean"), Get("seconds"), byOperator) { ProblemsByGenerator = byGenerator };
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
        foreach (var (op, value) in PassAt1ByOperator) metrics[$"{prefix}/pass@1/{op}"] = value;
        foreach (var (generator, problems) in ProblemsByGenerator) metrics[$"{prefix}/generator/{generator}"] = problems;
        return metrics;
    }
}
