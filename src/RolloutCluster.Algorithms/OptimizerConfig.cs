namespace RolloutCluster.Algorithms;

/// <summary>AdamW with gradient-norm clipping and a warm-up + constant or cosine learning-rate schedule.</summary>
public sealed record OptimizerConfig
{
    public double LearningRate { get; init; } = 1e-4;
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Maximum global gradient L2 norm (0 = no clipping).</summary>
    public double GradClip { get; init; } = 1.0;
    public int WarmupSteps { get; init; }

    /// <summary>"constant" or "cosine" after warm-up.</summary>
    public string Schedule { get; init; } = "constant";

    /// <summary>Steps the schedule spans (cosine reaches MinLrRatio · lr here).</summary>
    public int TotalSteps { get; init; } = 1;
    public double MinLrRatio { get; init; }

    /// <summary>Learning rate for optimizer step index step (0-based).</summary>
    public double LearningRateAt(int step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        if (Schedule == "constant") return LearningRate;
        if (Schedule != "cosine") throw new ArgumentException($"unknown learning-rate schedule '{Schedule}'; known: constant, cosine");
        double span = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((step - WarmupSteps) / span, 0, 1);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return LearningRate * (MinLrRatio + (1 - MinLrRatio) * cosine);
    }
}
