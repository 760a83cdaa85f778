using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// Activation checkpointing for one decoder layer (Chen et al. 2016, arXiv 1604.06174): the forward
/// pass keeps only the layer's input; the backward pass runs the layer again with gradients on and
/// back-propagates through it, accumulating its parameters' gradients directly (PyTorch's reentrant
/// checkpoint). Activations then cost one (B, T, C) tensor per layer instead of every intermediate
/// (attention scores, the MLP's (B, T, I) products), for one more forward pass per step. The layer
/// must compute the same thing twice: no dropout (LoRA dropout with checkpointing is refused).
/// </summary>
public sealed class CheckpointedLayer : autograd.MultiTensorFunction<CheckpointedLayer>
{
    public override string Name => nameof(CheckpointedLayer);

    /// <summary>x: (B, T, C), cos, sin: (B, 1, T, D), mask: (B, 1, T, T) or null → the layer's output (B, T, C).</summary>
    public static Tensor Forward(DecoderLayer layer, Tensor x, Tensor cos, Tensor sin, Tensor? mask) => apply(x, cos, sin, mask!, layer)[0];

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, cos, sin, mask, layer) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], vars[3] as Tensor, (DecoderLayer)vars[4]);
        ctx.save_for_backward(mask is null ? [x, cos, sin] : [x, cos, sin, mask]);
        ctx.save_data("layer", layer);
        ctx.set_materialize_grads(false);
        return [layer.Forward(x, cos, sin, mask, null)];   // grad is off here: nothing inside is kept
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        var layer = (DecoderLayer)ctx.get_data("layer");
        using var grad = enable_grad(true);
        // The recomputed layer's tensors go when this layer's backward is done, not after the whole pass.
        using var scope = NewDisposeScope();
        var input = saved[0].detach().requires_grad_(true);                            // (B, T, C)
        var output = layer.Forward(input, saved[1], saved[2], saved.Count > 3 ? saved[3] : null, null); // (B, T, C)
        autograd.backward([output], [gradOutputs[0]]);
        return [input.grad!.MoveToOuterDisposeScope(), null!, null!, null!, null!];
    }
}
