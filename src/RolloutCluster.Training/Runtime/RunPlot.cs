namespace RolloutCluster.Training.Runtime;

/// <summary>plot.png of a run: SFT token accuracy, GRPO reward and accuracy per step, and held-out pass@1 at each evaluation.</summary>
public static class RunPlot
{
    public static void Write(string metricsPath, string pngPath, string title)
    {
        var rows = MetricsLog.Read(metricsPath);
        var plot = new ScottPlot.Plot();
        int offset = 0;
        var stageStarts = new Dictionary<string, int>(StringComparer.Ordinal) { ["start"] = 0 };
        foreach (var stage in rows.Where(r => r.Kind == "train").Select(r => r.Stage).Distinct())
        {
            var steps = rows.Where(r => r.Kind == "train" && r.Stage == stage).ToList();
            stageStarts[stage] = offset;
            double[] x = steps.Select(r => (double)(offset + r.Step)).ToArray();
            Line(plot, x, steps, "sft/token_accuracy", $"{stage}: token accuracy (train)");
            Line(plot, x, steps, "reward/mean", $"{stage}: reward (mean)");
            Line(plot, x, steps, steps.Any(r => r.Values.ContainsKey("reward/accuracy")) ? "reward/accuracy" : "reward/math", $"{stage}: accuracy (train samples)");
            offset += steps.Count == 0 ? 0 : steps.Max(r => r.Step);
        }
        var evals = rows.Where(r => r.Kind == "eval" && r.Values.ContainsKey("eval/pass@1")).ToList();
        if (evals.Count > 0)
        {
            var points = plot.Add.Scatter(evals.Select(r => (double)(stageStarts.GetValueOrDefault(r.Stage) + r.Step)).ToArray(), evals.Select(r => r.Values["eval/pass@1"]).ToArray());
            points.LegendText = "held-out pass@1";
            points.LineWidth = 1;
            points.MarkerSize = 10;
        }
        plot.Title(title);
        plot.XLabel("optimizer step (stages in order)");
        plot.YLabel("rate / reward");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(pngPath, 1000, 600);
    }

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
