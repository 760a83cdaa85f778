using RolloutCluster.Model.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

public sealed class WeightPackTests
{
    [Fact]
    public void Pack_then_unpack_is_bit_identical()
    {
        using var source = TinyModels.Create(seed: 31, tied: false);
        using var target = TinyModels.Create(seed: 32, tied: false);
        var (buffer, manifest) = WeightPack.Pack(source);
        Assert.Equal(source.parameters().Sum(p => p.NumberOfElements * 4), manifest.TotalBytes);
        Assert.Equal(buffer.Length, manifest.TotalBytes);
        WeightPack.Unpack(target, buffer, manifest);
        var expected = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in target.named_parameters())
            Assert.True(p.bytes.SequenceEqual(expected[name].bytes), name);
        // Offsets are contiguous: each tensor starts where the previous one ended.
        Assert.Equal(manifest.Tensors.Skip(1).Select(t => t.Offset), manifest.Tensors.SkipLast(1).Select(t => t.Offset + t.Length));
    }

    [Fact]
    public void A_corrupted_buffer_is_refused_and_the_model_left_alone()
    {
        using var source = TinyModels.Create(seed: 33);
        using var target = TinyModels.Create(seed: 34);
        var before = WeightPack.Pack(target).Buffer;
        var (buffer, manifest) = WeightPack.Pack(source);
        buffer[buffer.Length / 2] ^= 0x40;
        var e = Assert.Throws<InvalidDataException>(() => WeightPack.Unpack(target, buffer, manifest));
        Assert.Contains("checksum", e.Message);
        Assert.Equal(before, WeightPack.Pack(target).Buffer);
    }

    [Fact]
    public void A_manifest_for_another_architecture_is_refused()
    {
        using var source = TinyModels.Create(kvHeads: 4);
        using var target = TinyModels.Create(kvHeads: 2);
        var (buffer, manifest) = WeightPack.Pack(source);
        var e = Assert.Throws<InvalidDataException>(() => WeightPack.Unpack(target, buffer, manifest));
        Assert.Contains("qkv_proj", e.Message);
    }
}
