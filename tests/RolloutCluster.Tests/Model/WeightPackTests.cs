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
    public void Segments_split_tensors_anywhere_and_pieces_split_tensors_larger_than_a_span()
    {
        // Segments of 1,000 bytes (not a multiple of 4: float32 elements straddle boundaries) stand in
        // for 1 GiB ones, and 512-byte tensor pieces for 256 MiB ones.
        using var source = TinyModels.Create(seed: 35, tied: false);
        using var target = TinyModels.Create(seed: 36, tied: false);
        var (buffer, manifest) = WeightPack.Pack(source, length => new WeightBuffer(length, segmentBytes: 1000));
        Assert.True(buffer.Segments.Count > 100);
        Assert.Equal(WeightPack.Pack(source).Manifest.Checksum, manifest.Checksum);   // the same bytes as in one segment
        WeightPack.Unpack(target, buffer, manifest);
        var expected = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in target.named_parameters())
            Assert.True(p.bytes.SequenceEqual(expected[name].bytes), name);

        var embedding = source.named_parameters().First().parameter;
        var copied = new List<byte>();
        TensorBytes.ForEachPiece(embedding, (at, piece) =>
        {
            Assert.Equal(copied.Count, at);
            Assert.True(piece.NumberOfElements * 4 <= 512);
            copied.AddRange(piece.bytes.ToArray());
        }, pieceBytes: 512);
        Assert.Equal(embedding.bytes.ToArray(), copied);
    }

    [Fact]
    public void Reads_and_writes_outside_the_buffer_are_refused()
    {
        var buffer = new WeightBuffer(10, segmentBytes: 4);
        Assert.Equal([4, 4, 2], buffer.Segments.Select(s => s.Length));
        buffer.Write(2, [1, 2, 3, 4, 5, 6, 7, 8]);
        var back = new byte[8];
        buffer.Read(2, back);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], back);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Write(8, [1, 2, 3]));
        Assert.Contains("[8, 11) lie outside a weights buffer of 10", e.Message);
    }

    [Fact]
    public void A_version_packed_for_bf16_generators_is_half_the_bytes_and_loads_into_a_bf16_replica()
    {
        using var source = TinyModels.Create(seed: 37);
        var (full, fullManifest) = WeightPack.Pack(source);
        var (half, manifest) = WeightPack.Pack(source, dtype: ScalarType.BFloat16);
        Assert.Equal(fullManifest.TotalBytes / 2, manifest.TotalBytes);
        Assert.All(manifest.Tensors, t => Assert.Equal("BF16", t.DType));
        using var replica = new RolloutCluster.Training.Engine.PolicyReplica(source.Config, ScalarType.BFloat16, source.Device);
        var model = replica.Load(0, half, manifest);
        Assert.Equal(ScalarType.BFloat16, model.DType);
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 5, 9, 12, 40, 41 }).unsqueeze(0);
        var positions = arange(5, dtype: ScalarType.Int64).unsqueeze(0);
        var gap = (model.Forward(ids, positions) - source.Forward(ids, positions)).abs().max().item<float>();
        var scale = source.Forward(ids, positions).abs().max().item<float>();
        Assert.True(gap > 0 && gap < 0.03 * scale, $"bf16 logits differ by {gap} (largest {scale})");   // the bf16 tolerance of the parity tests
    }

    [Fact]
    public void A_corrupted_buffer_is_refused_and_the_model_left_alone()
    {
        using var source = TinyModels.Create(seed: 33);
        using var target = TinyModels.Create(seed: 34);
        var before = WeightPack.Pack(target).Buffer.ToArray();
        var (buffer, manifest) = WeightPack.Pack(source);
        var flipped = new byte[1];
        buffer.Read(buffer.Length / 2, flipped);
        flipped[0] ^= 0x40;
        buffer.Write(buffer.Length / 2, flipped);
        var e = Assert.Throws<InvalidDataException>(() => WeightPack.Unpack(target, buffer, manifest));
        Assert.Contains("checksum", e.Message);
        Assert.Equal(before, WeightPack.Pack(target).Buffer.ToArray());
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
