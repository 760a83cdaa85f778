using RolloutCluster.Model.Checkpoints;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

/// <summary>
/// A single tensor over 2 GiB (a 7B model's float32 embedding is 2.18 GB) written to and read from
/// a safetensors file: past .NET's array and Span limits, so every byte goes through pieces.
/// </summary>
[Trait("speed", "slow")]        // 2.1 GB written and read back
[Collection("processes")]        // ~5 GB of memory: not beside other heavy tests
public sealed class LargeTensorTests
{
    [Fact]
    public void A_tensor_over_2_GiB_round_trips_through_safetensors_and_its_header_is_the_reference_layout()
    {
        long n = (1L << 29) + 1000;                       // 2,147,487,648 bytes of float32
        var dir = TinyModels.TempDir();
        var path = Path.Combine(dir, "big.safetensors");
        try
        {
            using (var t = ones(n))
            {
                t[0] = tensor(1.5f);
                t[n / 2] = tensor(-2.25f);
                t[n - 1] = tensor(7f);
                SafeTensorsFile.Write(path, [("big", t), ("small", full(3, 4f))]);
            }
            var file = SafeTensorsFile.Open(path);
            Assert.Equal(n * 4, file.Entries["big"].End - file.Entries["big"].Begin);
            Assert.Equal(file.DataStart + n * 4 + 12, new FileInfo(path).Length);
            using var back = file.Read("big");
            Assert.Equal([n], back.shape);
            Assert.Equal(1.5f, back[0].item<float>());
            Assert.Equal(-2.25f, back[n / 2].item<float>());
            Assert.Equal(7f, back[n - 1].item<float>());
            Assert.Equal((double)n - 3 + 1.5 - 2.25 + 7, back.sum(ScalarType.Float64).item<double>());
            using var into = zeros(3);
            file.ReadInto("small", into);
            Assert.Equal([4f, 4f, 4f], into.data<float>().ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
