namespace RolloutCluster.Training.Evaluation;

/// <summary>
/// Held-out accuracy: pass@1 is the mean correctness of all samples (temperature sampling), pass@k
/// the share of problems with at least one correct sample among k, maj@k the share whose most
/// frequent answer among k is correct.
/// </summary>
public sealed record EvalResult(int Problems, int Samples, double PassAt1, double PassAtK, double MajAtK, double FormatRate,
    double MeanLength, double Seconds, IReadOnlyDictionary<string, double> PassAt1ByOperator)
{
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
        return metrics;
    }
}
