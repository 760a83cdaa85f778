using System.Globalization;
using RolloutCluster.Algorithms;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Runtime;
using Spectre.Console;

namespace RolloutCluster.Cli;

/// <summary>Progress bars with live metrics for a running job (plain lines when the output is not a terminal).</summary>
public sealed class ConsoleObserver(IAnsiConsole console) : IJobObserver
{
    readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
    readonly Lock _lock = new();
    ProgressContext? _context;
    int _lastLoggedPercent = -1;

    public void Attach(ProgressContext context) => _context = context;

    public void StageStarted(string stage, string kind, int steps)
    {
        lock (_lock)
        {
            _lastLoggedPercent = -1;
            if (_context is not null) _tasks[stage] = _context.AddTask($"{Markup.Escape(stage)} ({kind})", maxValue: steps);
            else console.MarkupLine($"[bold]{Markup.Escape(stage)}[/] ({kind}): {steps} steps");
        }
    }

    public void StepCompleted(string stage, int step, int steps, Metrics metrics)
    {
        var summary = Summary(metrics);
        lock (_lock)
        {
            if (_tasks.TryGetValue(stage, out var task))
            {
                task.Value = step;
                task.Description = $"{Markup.Escape(stage)} {step}/{steps} {Markup.Escape(summary)}";
                return;
            }
            int percent = step * 10 / Math.Max(steps, 1);
            if (percent == _lastLoggedPercent && step != steps) return;
            _lastLoggedPercent = percent;
            console.WriteLine($"{stage} {step}/{steps} {summary}");
        }
    }

    public void StageCompleted(string stage, int stepsDone, string checkpoint)
    {
        lock (_lock)
        {
            if (_tasks.TryGetValue(stage, out var task)) task.StopTask();
            console.MarkupLine($"[green]{Markup.Escape(stage)}[/]: {stepsDone} steps, checkpoint {Markup.Escape(checkpoint)}");
        }
    }

    public void EvaluationStarted(string label, int problems, int samples)
    {
        lock (_lock)
        {
            if (_context is not null) _tasks["eval:" + label] = _context.AddTask($"eval after {Markup.Escape(label)}: {problems} problems x {samples}", maxValue: 1).IsIndeterminate();
            else console.WriteLine($"evaluating after {label}: {problems} problems x {samples} samples");
        }
    }

    public void EvaluationCompleted(string label, EvalResult r)
    {
        lock (_lock)
        {
            if (_tasks.TryGetValue("eval:" + label, out var task)) { task.IsIndeterminate(false); task.Value = 1; task.StopTask(); }
            console.MarkupLine($"[blue]eval after {Markup.Escape(label)}[/]: pass@1 {r.PassAt1:P1}, pass@{r.Samples} {r.PassAtK:P1}, maj@{r.Samples} {r.MajAtK:P1}, format {r.FormatRate:P0} ({r.Seconds:F0} s)");
            if (r.Refinement.Count > 1)
            {
                console.MarkupLine($"  self-refinement, accuracy by feedback round: {string.Join(" → ", r.Refinement.Select(a => a.ToString("P1", CultureInfo.InvariantCulture)))}");
                console.MarkupLine($"  retrying without feedback (control):        {string.Join(" → ", r.Resampling.Select(a => a.ToString("P1", CultureInfo.InvariantCulture)))}");
            }
        }
    }

    public void Note(string message)
    {
        lock (_lock) console.MarkupLine($"[yellow]note[/]: {Markup.Escape(message)}");
    }

    static string Summary(Metrics m)
    {
        string F(string key, string format) => m.TryGetValue(key, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
        return m.ContainsKey("sft/loss")
            ? $"loss {F("sft/loss", "F3")} tok-acc {F("sft/token_accuracy", "P1")} lr {F("actor/lr", "0.0e0")} {F("timing/step_s", "F2")}s/step"
            : $"reward {F("reward/mean", "F3")} acc {F(new[] { "reward/accuracy", "reward/math", "reward/code" }.FirstOrDefault(m.ContainsKey) ?? "reward/math", "P1")} len {F("response/length_mean", "F1")} " +
              $"ent {F("actor/entropy", "F3")} groups {F("batch/groups", "F0")} {F("timing/step_s", "F2")}s/step";
    }
}
