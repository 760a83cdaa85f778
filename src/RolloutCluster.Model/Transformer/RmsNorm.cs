using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// Root-mean-square layer norm (Zhang and Sennrich 2019) as Qwen2 and Llama use it: statistics in
/// float32 whatever the activation dtype, then a learned per-channel scale. TorchSharp has no nn.RMSNorm.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly double _eps;

    // Named as registered: TorchSharp's to(dtype/device) replaces a parameter and updates the field of
    // the same name; a field by another name would keep the disposed original (measured: forward after
    // to(bfloat16) failed with "empty handle").
#pragma warning disable IDE1006
    TorchSharp.Modules.Parameter weight;
#pragma warning restore IDE1006

    public RmsNorm(int dim, double eps) : base(nameof(RmsNorm))
    {
        _eps = eps;
        weight = new TorchSharp.Modules.Parameter(ones(dim));
        register_parameter("weight", weight);
    }

    /// <summary>x: (..., C) → (..., C).</summary>
    public override Tensor forward(Tensor x)
    {
        var dtype = x.dtype;
        var h = x.to(float32);
        var variance = h.pow(2).mean([-1], keepdim: true); // (..., 1)
        h = h * rsqrt(variance + _eps);
        return weight * h.to(dtype);
    }
}
