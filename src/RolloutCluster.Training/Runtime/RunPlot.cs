using ScottPlot;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// plot.png of a run, one panel per stage: SFT token accuracy, GRPO reward and accuracy per step
/// (smoothed), and held-out pass@1 at each evaluation (the one after the previous stage at step 0);
/// and when an evaluation drew k >= 4 samples, a last panel of its inference-scaling curves.
/// </summary>
public static partial class RunPlot
{
    public static void Write(string metricsPath, string pngPath, string title)
    {
        var rows = MetricsLog.Read(metricsPath);
        var stages = rows.Where(r => r.Kind == "train").Select(r => r.Stage).Distinct().ToList();
        var plots = new List<ScottPlot.Plot>();
        string previous = "start";
        foreach (var stage in stages)
        {
            var plot = new ScottPlot.Plot();
            var steps = rows.Where(r => r.Kind == "train" && r.Stage == stage).ToList();
            double[] x = steps.Select(r => (double)r.Step).ToArray();
            Line(plot, x, steps, "sft/token_accuracy", "token accuracy (train)");
            Line(plot, x, steps, "rm/accuracy", "reward model accuracy (train batches)");
            Line(plot, x, steps, "rm/loss", "reward model loss");
            Line(plot, x, steps, "reward/mean", "reward (mean)");
            Line(plot, x, steps, steps.Any(r => r.Values.ContainsKey("reward/accuracy")) ? "reward/accuracy" : "reward/math", "accuracy (train samples)");
            var evals = rows.Where(r => r.Kind == "eval" && r.Values.ContainsKey("eval/pass@1") && (r.Stage == stage || r.Stage == previous))
                .Select(r => (X: r.Stage == stage ? (double)r.Step : 0, Y: r.Values["eval/pass@1"]))
                .Where(p => p.X > 0 || rows.Any(r => r.Kind == "eval" && r.Stage == previous))
                .ToList();
            if (evals.Count > 0)
            {
                var points = plot.Add.Scatter(evals.Select(p => p.X).ToArray(), evals.Select(p => p.Y).ToArray());
                points.LegendText = "held-out pass@1";
                points.MarkerSize = 9;
            }
            plot.Title($"{title}: {stage}");
            plot.XLabel($"{stage} step");
            plot.YLabel("rate / reward");
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
            plots.Add(plot);
            previous = stage;
        }
        if (ScalingCurves(rows) is { Count: > 0 } curves)
        {
            // The last evaluation with a curve (k >= 4): accuracy against samples per problem, n on a log2 axis.
            var plot = new ScottPlot.Plot();
            foreach (var (label, points) in curves)
            {
                var line = plot.Add.Scatter(points.Select(p => Math.Log2(p.N)).ToArray(), points.Select(p => p.Value).ToArray());
                line.LegendText = label;
            }
            plot.Title($"{title}: inference-time scaling (last evaluation)");
            plot.XLabel("log2(samples per problem)");
            plot.YLabel("held-out accuracy");
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
            plots.Add(plot);
        }
        if (plots.Count == 0) plots.Add(new ScottPlot.Plot());
        var multiplot = new ScottPlot.Multiplot(plots[0]); // it starts with this one panel
        foreach (var plot in plots.Skip(1)) multiplot.Subplots.Add(plot);
        multiplot.SavePng(pngPath, 1000, 420 * plots.Count);
    }

    /// <summary>
    /// The inference-scaling curves of the last evaluation that has one (at least three sample counts):
    /// pass@n, maj@n, and with a reward model best_of@n and rm_maj@n, each as (n, value) in n order.
    /// </summary>
    public static IReadOnlyList<(string Label, IReadOnlyList<(int N, double Value)> Points)> ScalingCurves(
        IReadOnlyList<(string Kind, string Stage, int Step, Dictionary<string, double> Values)> rows)
    {
        var last = rows.LastOrDefault(r => r.Kind == "eval" && r.Values.Keys.Count(k => CurveKey().IsMatch(k) && k.StartsWith("eval/pass@", StringComparison.Ordinal)) >= 3);
        if (last.Values is null) return [];
        return [.. last.Values.Select(kv => (Match: CurveKey().Match(kv.Key), kv.Value)).Where(x => x.Match.Success)
            .GroupBy(x => x.Match.Groups["name"].Value)
            .OrderBy(g => Array.IndexOf(CurveNames, g.Key))
            .Select(g => ($"{g.Key}@n", (IReadOnlyList<(int, double)>)[.. g.Select(x => (int.Parse(x.Match.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture), x.Value)).OrderBy(p => p.Item1)]))];
    }

    static readonly string[] CurveNames = ["pass", "maj", "best_of", "rm_maj"];

    [System.Text.RegularExpressions.GeneratedRegex(@"^eval/(?<name>pass|maj|best_of|rm_maj)@(?<n>\d+)$")]
    private static partial System.Text.RegularExpressions.Regex CurveKey();

    static void Line(ScottPlot.Plot plot, double[] x, List<(string Kind, string Stage, int Step, Dictionary<string, double> Values)> rows, string key, string label)
    {
        if (!rows.Any(r => r.Values.ContainsKey(key))) return;
        var y = rows.Select(r => r.Values.GetValueOrDefault(key, double.NaN)).ToArray();
        var line = plot.Add.Scatter(x, Smooth(y, window: Math.Max(1, y.Length / 40)));
        line.LegendText = label;
        line.MarkerSize = 0;
    }

    /// <summary>Trailing moving average; per-step values are noisy at these batch sizes.</summary>
    static double[] Smooth(double[] y, int window)
    {
        var result = new double[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int from = Math.Max(0, i - window + 1);
            result[i] = y[from..(i + 1)].Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
        }
        return result;
    }
}
