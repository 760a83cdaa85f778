using System.Text.Json;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// Rotary inverse frequencies as Hugging Face computes them for config.json's rope_scaling:
/// default (1 / θ^(2i/d)), linear (positions divided by factor), llama3 (Llama 3.1/3.2: long
/// wavelengths divided by factor, short ones kept, a smooth blend between) and yarn (NTK-by-parts
/// interpolation with an attention factor on cos and sin; arXiv 2309.00071). Dynamic NTK depends on
/// each sequence's length and is refused.
/// </summary>
public static class RopeScaling
{
    public static readonly IReadOnlyList<string> Types = ["default", "linear", "llama3", "yarn"];

    /// <summary>The scaling type ("default" when there is none), from "rope_type" or the older "type".</summary>
    public static string TypeOf(JsonElement? scaling) =>
        scaling is not { ValueKind: JsonValueKind.Object } s ? "default"
            : s.TryGetProperty("rope_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()!
            : s.TryGetProperty("type", out var old) && old.ValueKind == JsonValueKind.String ? old.GetString()! : "default";

    /// <summary>What is wrong with rope_scaling, naming the field, or null.</summary>
    public static string? Validate(ModelConfig config)
    {
        var type = TypeOf(config.RopeScaling);
        if (!Types.Contains(type))
            return $"field 'rope_scaling.rope_type' is \"{type}\"; supported: {string.Join(", ", Types)}" + (type == "dynamic" ? " (dynamic NTK scaling depends on each sequence's length)" : "");
        if (type is "linear" or "llama3" or "yarn" && Number(config.RopeScaling, "factor") is not > 0)
            return $"field 'rope_scaling.factor' must be a positive number for rope_type \"{type}\"";
        if (type == "llama3")
            foreach (var field in new[] { "low_freq_factor", "high_freq_factor", "original_max_position_embeddings" })
                if (Number(config.RopeScaling, field) is not > 0) return $"field 'rope_scaling.{field}' must be a positive number for rope_type \"llama3\"";
        return null;
    }

    static double? Number(JsonElement? scaling, string name) =>
        scaling is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    /// <summary>(D/2) inverse frequencies, and the factor cos and sin are multiplied by (1 except for yarn).</summary>
    public static (float[] InverseFrequencies, double AttentionFactor) Compute(ModelConfig config)
    {
        int dim = config.HeadDim;
        double theta = config.RopeTheta;
        var basic = Enumerable.Range(0, dim / 2).Select(i => 1.0 / Math.Pow(theta, 2.0 * i / dim)).ToArray();
        var s = config.RopeScaling;
        switch (TypeOf(s))
        {
            case "linear":
                return (basic.Select(f => (float)(f / Number(s, "factor")!.Value)).ToArray(), 1.0);
            case "llama3":
            {
                double factor = Number(s, "factor")!.Value, low = Number(s, "low_freq_factor")!.Value, high = Number(s, "high_freq_factor")!.Value;
                double original = Number(s, "original_max_position_embeddings")!.Value;
                double lowWavelength = original / low, highWavelength = original / high;
                return (basic.Select(f =>
                {
                    double wavelength = 2 * Math.PI / f;
                    if (wavelength < highWavelength) return (float)f;
                    if (wavelength > lowWavelength) return (float)(f / factor);
                    double smooth = (original / wavelength - low) / (high - low);
                    return (float)((1 - smooth) * f / factor + smooth * f);
                }).ToArray(), 1.0);
            }
            case "yarn":
            {
                double factor = Number(s, "factor")!.Value;
                double original = Number(s, "original_max_position_embeddings") ?? config.MaxPositionEmbeddings;
                double betaFast = Number(s, "beta_fast") ?? 32, betaSlow = Number(s, "beta_slow") ?? 1;
                static double Mscale(double scale, double m = 1) => scale <= 1 ? 1.0 : 0.1 * m * Math.Log(scale) + 1.0;
                double attention = Number(s, "attention_factor") ?? (Number(s, "mscale") is { } m && Number(s, "mscale_all_dim") is { } all
                    ? Mscale(factor, m) / Mscale(factor, all) : Mscale(factor));
                double CorrectionDim(double rotations) => dim * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
                double lowDim = Math.Max(Math.Floor(CorrectionDim(betaFast)), 0), highDim = Math.Min(Math.Ceiling(CorrectionDim(betaSlow)), dim - 1);
                if (lowDim == highDim) highDim += 0.001;
                return (basic.Select((f, i) =>
                {
                    double ramp = Math.Clamp((i - lowDim) / (highDim - lowDim), 0, 1);
                    double extrapolation = 1 - ramp;
                    return (float)(f / factor * (1 - extrapolation) + f * extrapolation);
                }).ToArray(), attention);
            }
            default:
                return (basic.Select(f => (float)f).ToArray(), 1.0);
        }
    }
}
