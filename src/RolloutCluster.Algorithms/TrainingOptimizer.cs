using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>The outcome of one optimizer step.</summary>
/// <param name="GradNorm">Global gradient L2 norm before clipping (may be NaN or ∞).</param>
/// <param name="Skipped">True when the gradient was not finite: weights and optimizer state are untouched.</param>
public sealed record StepOutcome(double GradNorm, double LearningRate, bool Skipped);

/// <summary>
/// AdamW with the schedule and clipping of <see cref="OptimizerConfig"/>, and skip-and-report on a
/// non-finite gradient: one bad batch (a NaN advantage, an overflow) never reaches the weights.
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    readonly IReadOnlyList<Parameter> _parameters;
    readonly OptimizerConfig _config;
    readonly AdamW _adam;

    public TrainingOptimizer(IEnumerable<Parameter> parameters, OptimizerConfig config)
    {
        _parameters = parameters.ToList();
        _config = config;
        _adam = new AdamW(_parameters, config.LearningRate, config.Beta1, config.Beta2, config.Epsilon, config.WeightDecay, false, false);
    }

    /// <summary>Optimizer steps taken (skipped ones not counted): the schedule's position.</summary>
    public int StepsTaken { get; private set; }

    /// <summary>Non-finite gradients met so far.</summary>
    public int StepsSkipped { get; private set; }

    /// <summary>Clears accumulated gradients; call before a batch's micro-batches.</summary>
    public void ZeroGrad() => _adam.zero_grad();

    /// <summary>Clips, checks and applies the accumulated gradient.</summary>
    public StepOutcome Step()
    {
        double lr = _config.LearningRateAt(StepsTaken);
        double norm = GradNorm();
        if (!double.IsFinite(norm))
        {
            StepsSkipped++;
            _adam.zero_grad();
            return new StepOutcome(norm, lr, Skipped: true);
        }
        if (_config.GradClip > 0) nn.utils.clip_grad_norm_(_parameters, _config.GradClip);
        foreach (var group in _adam.ParamGroups) group.LearningRate = lr;
        _adam.step();
        _adam.zero_grad();
        StepsTaken++;
        return new StepOutcome(norm, lr, Skipped: false);
    }

    double GradNorm()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var squares = _parameters.Where(p => p.grad is not null).Select(p => p.grad!.to(float64).square().sum()).ToList();
        return squares.Count == 0 ? 0 : stack(squares).sum().sqrt().item<double>();
    }

    /// <summary>Writes the AdamW moments and the schedule position.</summary>
    public void Save(string path)
    {
        _adam.save_state_dict(path);
        File.WriteAllText(path + ".steps", $"{StepsTaken} {StepsSkipped}\n");
    }

    /// <summary>Restores what <see cref="Save"/> wrote.</summary>
    public void Load(string path)
    {
        _adam.load_state_dict(path);
        var parts = File.ReadAllText(path + ".steps").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        StepsTaken = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        StepsSkipped = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => _adam.Dispose();
}
