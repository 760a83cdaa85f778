using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Transformer;

/// <summary>
/// Keys and values of every layer for a batch being decoded, preallocated to the longest sequence
/// the batch can reach so each step writes one slot instead of concatenating. Slots are shared by
/// all rows (rows are left-padded); <see cref="Length"/> slots are filled. Keys are stored
/// transposed, (B, Hkv, D, Tmax), the layout the decode step's q·Kᵀ reads fastest.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor[] _keys;
    readonly Tensor[] _values;

    public KvCache(ModelConfig config, long batch, long capacity, Device device, ScalarType dtype)
    {
        Capacity = capacity;
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            _keys[i] = zeros([batch, config.KeyValueHeads, config.HeadDim, capacity], dtype, device); // (B, Hkv, D, Tmax)
            _values[i] = zeros([batch, config.KeyValueHeads, capacity, config.HeadDim], dtype, device); // (B, Hkv, Tmax, D)
            _keys[i].DetachFromDisposeScope();
            _values[i].DetachFromDisposeScope();
        }
    }

    /// <summary>Slots the cache can hold per row.</summary>
    public long Capacity { get; }

    /// <summary>Slots written so far (the same for every row).</summary>
    public long Length { get; private set; }

    /// <summary>Rows in the cache.</summary>
    public long Batch => _keys[0].shape[0];

    /// <summary>
    /// Writes k, v: (B, Hkv, T, D) at slots [Length, Length + T) of one layer and returns all filled
    /// slots: keys transposed (B, Hkv, D, Tk) and values (B, Hkv, Tk, D).
    /// </summary>
    public (Tensor KeysT, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        long t = k.shape[2];
        if (Length + t > Capacity)
            throw new InvalidOperationException($"KV cache overflow: {Length} + {t} > capacity {Capacity}");
        _keys[layer].narrow(3, Length, t).copy_(k.transpose(-1, -2));
        _values[layer].narrow(2, Length, t).copy_(v);
        return (_keys[layer].narrow(3, 0, Length + t), _values[layer].narrow(2, 0, Length + t));
    }

    /// <summary>Marks T more slots as filled; call once per forward pass, after every layer appended.</summary>
    public void Advance(long t) => Length += t;

    /// <summary>Keeps only the given rows (indices into the current batch), in that order.</summary>
    public void KeepRows(Tensor rows)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            var k = _keys[i].index_select(0, rows);
            var v = _values[i].index_select(0, rows);
            k.DetachFromDisposeScope();
            v.DetachFromDisposeScope();
            _keys[i].Dispose();
            _values[i].Dispose();
            _keys[i] = k;
            _values[i] = v;
        }
    }

    public void Dispose()
    {
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
    }
}
