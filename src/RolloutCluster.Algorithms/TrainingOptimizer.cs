using TorchSharp;
using TorchSharp.Modules;
using System.Globalization;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>The outcome of one optimizer step.</summary>
/// <param name="GradNorm">Global gradient L2 norm before clipping (may be NaN or ∞).</param>
/// <param name="Skipped">True when the gradient was not finite: weights and optimizer state are untouched.</param>
public sealed record StepOutcome(double GradNorm, double LearningRate, bool Skipped);

/// <summary>
/// AdamW (Loshchilov and Hutter, arXiv 1711.05101, as torch.optim.AdamW computes it) with the schedule
/// and clipping of <see cref="OptimizerConfig"/>, and skip-and-report on a non-finite gradient: one bad
/// batch (a NaN advantage, an overflow) never reaches the weights. Written here rather than taken from
/// TorchSharp so that each parameter's temporaries are freed before the next one's: TorchSharp's step
/// kept them all to the end, two more copies of the model (2 GB at 0.5B parameters) at every step,
/// and allocated both moments for every parameter when constructed.
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    readonly IReadOnlyList<Parameter> _parameters;
    readonly OptimizerConfig _config;
    readonly Tensor?[] _expAvg, _expAvgSq;   // AdamW's moments, made at a parameter's first step
    readonly long[] _steps;                  // per parameter, as torch counts them

    public TrainingOptimizer(IEnumerable<Parameter> parameters, OptimizerConfig config)
    {
        _parameters = parameters.ToList();
        _config = config;
        _expAvg = new Tensor?[_parameters.Count];
        _expAvgSq = new Tensor?[_parameters.Count];
        _steps = new long[_parameters.Count];
    }

    /// <summary>Optimizer steps taken (skipped ones not counted): the schedule's position.</summary>
    public int StepsTaken { get; private set; }

    /// <summary>Non-finite gradients met so far.</summary>
    public int StepsSkipped { get; private set; }

    /// <summary>Clears accumulated gradients; call before a batch's micro-batches.</summary>
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var p in _parameters)
            p.grad?.zero_();
    }

    /// <summary>
    /// Frees the gradients after an update, and the C heap's free memory with them: a learner packs the
    /// next weights version after its step, and that copy should not sit beside a model's worth of
    /// gradients (held on to by glibc, freed gradients still counted 1.4 GB in a 0.5B model's step 2).
    /// </summary>
    void DropGradients()
    {
        using (NewDisposeScope())
            foreach (var p in _parameters)
                if (p.grad is not null) p.grad = null;
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }   // not glibc (musl): nothing to trim this way
    }

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>Clips, checks and applies the accumulated gradient.</summary>
    public StepOutcome Step()
    {
        double lr = _config.LearningRateAt(StepsTaken);
        double norm = GradNorm();
        if (!double.IsFinite(norm))
        {
            StepsSkipped++;
            DropGradients();
            return new StepOutcome(norm, lr, Skipped: true);
        }
        if (_config.GradClip > 0)
            using (NewDisposeScope()) nn.utils.clip_grad_norm_(_parameters, _config.GradClip);
        using (no_grad())
            for (int i = 0; i < _parameters.Count; i++) Update(i, lr);
        DropGradients();
        StepsTaken++;
        return new StepOutcome(norm, lr, Skipped: false);
    }

    /// <summary>One parameter's AdamW update, its temporaries released before the next parameter's.</summary>
    void Update(int i, double lr)
    {
        var p = _parameters[i];
        using var scope = NewDisposeScope();   // the grad handle and the temporaries
        if (p.grad is not { } grad) return;
        var m = _expAvg[i] ??= zeros_like(p).DetachFromDisposeScope();
        var v = _expAvgSq[i] ??= zeros_like(p).DetachFromDisposeScope();
        long t = ++_steps[i];
        double b1 = _config.Beta1, b2 = _config.Beta2;
        double correction1 = 1 - Math.Pow(b1, t), correction2 = 1 - Math.Pow(b2, t);
        p.mul_(1 - lr * _config.WeightDecay);
        m.mul_(b1).add_(grad, alpha: 1 - b1);
        v.mul_(b2).addcmul_(grad, grad, value: 1 - b2);
        var denom = v.sqrt().div_(Math.Sqrt(correction2)).add_(_config.Epsilon);
        p.addcdiv_(m, denom, value: -lr / correction1);
    }

    /// <summary>
    /// The global L2 norm, summed in float64 a slice at a time: float64 copies of every gradient at
    /// once would hold twice the model's bytes (4 GB at 0.5B parameters) on top of the gradients.
    /// </summary>
    double GradNorm()
    {
        using var noGrad = no_grad();
        const long slice = 1 << 22;
        double sum = 0;
        foreach (var p in _parameters)
        {
            using var outer = NewDisposeScope();   // the grad handle and its flat view
            if (p.grad is not { } grad) continue;
            var flat = grad.reshape(-1);
            for (long at = 0; at < flat.shape[0]; at += slice)
            {
                using var scope = NewDisposeScope();
                sum += flat.narrow(0, at, Math.Min(slice, flat.shape[0] - at)).to(float64).square().sum().item<double>();
            }
        }
        return Math.Sqrt(sum);
    }

    /// <summary>Writes the AdamW moments (safetensors, one pair per parameter in order) and the schedule position.</summary>
    public void Save(string path)
    {
        var tensors = new List<(string, Tensor)>();
        for (int i = 0; i < _parameters.Count; i++)
            if (_expAvg[i] is { } m) { tensors.Add(($"{i}.exp_avg", m)); tensors.Add(($"{i}.exp_avg_sq", _expAvgSq[i]!)); }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = StateFormat,
            ["parameters"] = _parameters.Count.ToString(CultureInfo.InvariantCulture),
            ["steps"] = string.Join(',', _steps),
        };
        SafeTensorsFile.Write(path, tensors, metadata);
        File.WriteAllText(path + ".steps", $"{StepsTaken} {StepsSkipped}\n");
    }

    const string StateFormat = "rollout-adamw-1";

    /// <summary>Restores what <see cref="Save"/> wrote; a file of another optimizer or model is refused, naming it.</summary>
    public void Load(string path)
    {
        SafeTensorsFile file;
        try { file = SafeTensorsFile.Open(path); }
        catch (ModelFormatException e)
        {
            throw new InvalidDataException($"{path}: not an optimizer state this version writes ({e.Message}); resume from a checkpoint written since the optimizer changed, or start the stage again", e);
        }
        if (file.Metadata.GetValueOrDefault("format") != StateFormat || file.Metadata.GetValueOrDefault("parameters") != _parameters.Count.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{path}: optimizer state for {file.Metadata.GetValueOrDefault("parameters") ?? "?"} parameters of format " +
                $"'{file.Metadata.GetValueOrDefault("format")}', this model trains {_parameters.Count} with '{StateFormat}'");
        var steps = file.Metadata["steps"].Split(',').Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < _parameters.Count; i++)
        {
            _steps[i] = steps[i];
            if (!file.Entries.ContainsKey($"{i}.exp_avg")) continue;
            _expAvg[i] ??= zeros_like(_parameters[i]).DetachFromDisposeScope();
            _expAvgSq[i] ??= zeros_like(_parameters[i]).DetachFromDisposeScope();
            file.ReadInto($"{i}.exp_avg", _expAvg[i]!);
            file.ReadInto($"{i}.exp_avg_sq", _expAvgSq[i]!);
        }
        var parts = File.ReadAllText(path + ".steps").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        StepsTaken = int.Parse(parts[0], CultureInfo.InvariantCulture);
        StepsSkipped = int.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var t in _expAvg.Concat(_expAvgSq)) t?.Dispose();
    }
}
