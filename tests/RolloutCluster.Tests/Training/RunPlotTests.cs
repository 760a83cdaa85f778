using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Training;

/// <summary>plot.png's inference-scaling panel: which evaluation it draws and what.</summary>
public sealed class RunPlotTests
{
    static (string, string, int, Dictionary<string, double>) Eval(string stage, params (string Key, double Value)[] values) =>
        ("eval", stage, 1, values.ToDictionary(v => v.Key, v => v.Value));

    [Fact]
    public void The_last_evaluation_with_a_curve_gives_one_series_per_method_in_n_order()
    {
        var rows = new List<(string, string, int, Dictionary<string, double>)>
        {
            Eval("early", ("eval/pass@1", 0.1), ("eval/pass@2", 0.2), ("eval/pass@4", 0.3), ("eval/maj@4", 0.15)),
            Eval("late", ("eval/pass@4", 0.6), ("eval/pass@1", 0.4), ("eval/pass@2", 0.5), ("eval/maj@1", 0.4), ("eval/maj@2", 0.41), ("eval/maj@4", 0.45),
                ("eval/best_of@4", 0.3), ("eval/pass@1/add", 0.9), ("eval/maj@4/x", 1)),
            Eval("k=2 only", ("eval/pass@1", 0.7), ("eval/pass@2", 0.8)),   // too short a curve to draw: the one before is drawn
        };
        var curves = RunPlot.ScalingCurves(rows);
        Assert.Equal(["pass@n", "maj@n", "best_of@n"], curves.Select(c => c.Label));
        Assert.Equal([(1, 0.4), (2, 0.5), (4, 0.6)], curves[0].Points);
        Assert.Equal([(4, 0.3)], curves[2].Points);
    }

    [Fact]
    public void Without_a_curve_there_is_no_panel() =>
        Assert.Empty(RunPlot.ScalingCurves([Eval("x", ("eval/pass@1", 0.5), ("eval/pass@2", 0.6))]));
}
