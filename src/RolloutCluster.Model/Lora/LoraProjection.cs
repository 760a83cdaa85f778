using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Lora;

/// <summary>One targeted projection's low-rank pair: A (r, in), B (rows, r). PEFT's initialisation: A as nn.Linear's default (kaiming-uniform, a = √5), B zero, so training starts from the base model.</summary>
public sealed class LoraPart : nn.Module
{
    public LoraPart(long inFeatures, long rows, int rank, Generator generator) : base(nameof(LoraPart))
    {
        double bound = 1.0 / Math.Sqrt(inFeatures);
        // float32 whatever the base's dtype (adapters train in full precision), and named rather than
        // torch's process-wide default, which another thread may be building a bf16 model under.
        A = new Parameter(rand([rank, inFeatures], dtype: ScalarType.Float32, generator: generator) * (2 * bound) - bound);
        B = new Parameter(zeros(rows, rank, dtype: ScalarType.Float32));
        register_parameter("A", A);
        register_parameter("B", B);
    }

    public Parameter A { get; }
    public Parameter B { get; }
}

/// <summary>
/// The adapters of one linear layer whose output is laid out as named parts: q, k, v of the fused
/// qkv_proj; gate, up of gate_up_proj; or a single part (o_proj, down_proj). Adds scale · x Aᵀ Bᵀ to
/// each targeted part's slice of the output, leaving the base weight untouched (the learner trains
/// only A and B; generators run the same path, so sampler and learner compute alike).
/// </summary>
public sealed class LoraProjection : nn.Module
{
    readonly (string Name, long Offset, long Rows, LoraPart? Part)[] _layout;
    readonly double _scale;
    readonly double _dropout;

    public LoraProjection(long inFeatures, IReadOnlyList<(string Name, long Rows)> layout, LoraConfig config, Generator generator) : base(nameof(LoraProjection))
    {
        _scale = config.Scale;
        _dropout = config.Dropout;
        long offset = 0;
        _layout = new (string, long, long, LoraPart?)[layout.Count];
        for (int i = 0; i < layout.Count; i++)
        {
            var (name, rows) = layout[i];
            LoraPart? part = null;
            if (config.TargetModules.Contains(name))
            {
                part = new LoraPart(inFeatures, rows, config.Rank, generator);
                register_module(name, part);
            }
            _layout[i] = (name, offset, rows, part);
            offset += rows;
        }
    }

    /// <summary>Whether any part is targeted (a projection with none is not attached at all).</summary>
    public bool Any => _layout.Any(l => l.Part is not null);

    /// <summary>The targeted parts with their row ranges in the base weight.</summary>
    public IEnumerable<(string Name, long Offset, long Rows, LoraPart Part)> Parts =>
        _layout.Where(l => l.Part is not null).Select(l => (l.Name, l.Offset, l.Rows, l.Part!));

    public double Scale => _scale;

    /// <summary>x: (B, T, in), output: (B, T, out) of the base projection → output with each targeted part's low-rank term added.</summary>
    public Tensor Apply(Tensor x, Tensor output)
    {
        var input = _dropout > 0 && training ? nn.functional.dropout(x, _dropout, training: true) : x;
        // Adapters stay float32 over a bf16 base: the term is computed in theirs and added in the base's dtype.
        Tensor Delta(LoraPart p) => (nn.functional.linear(nn.functional.linear(input.to(p.A.dtype), p.A), p.B) * _scale).to(output.dtype); // (B, T, rows)
        if (_layout.Length == 1) return output + Delta(_layout[0].Part!);
        var pieces = _layout.Select(l =>
        {
            var slice = output.narrow(-1, l.Offset, l.Rows);                              // (B, T, rows)
            return l.Part is null ? slice : slice + Delta(l.Part);
        }).ToArray();
        return cat(pieces, -1);                                                            // (B, T, out)
    }

    /// <summary>scale · B A laid out like the base weight's rows, for merging: (offset, rows, delta (rows, in)) per targeted part.</summary>
    public IEnumerable<(long Offset, long Rows, Tensor Delta)> Deltas() =>
        Parts.Select(p => (p.Offset, p.Rows, p.Part.B.matmul(p.Part.A) * _scale));
}
