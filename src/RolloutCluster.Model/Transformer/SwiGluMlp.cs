using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>The gated feed-forward block (Shazeer 2020, "GLU Variants"): down(silu(gate(x)) * up(x)).</summary>
public sealed class SwiGluMlp : nn.Module<Tensor, Tensor>
{
    readonly Linear _gate;
    readonly Linear _up;
    readonly Linear _down;

    public SwiGluMlp(int hidden, int intermediate) : base(nameof(SwiGluMlp))
    {
        _gate = nn.Linear(hidden, intermediate, hasBias: false);
        _up = nn.Linear(hidden, intermediate, hasBias: false);
        _down = nn.Linear(intermediate, hidden, hasBias: false);
        register_module("gate_proj", _gate);
        register_module("up_proj", _up);
        register_module("down_proj", _down);
    }

    /// <summary>x: (B, T, C) → (B, T, C).</summary>
    public override Tensor forward(Tensor x) =>
        _down.forward(nn.functional.silu(_gate.forward(x)) * _up.forward(x)); // (B, T, I) → (B, T, C)
}
