using System.Text.Json.Nodes;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using TorchSharp;

namespace RolloutCluster.Tests.Model;

/// <summary>Sharded safetensors with model.safetensors.index.json, as Hugging Face writes them for large models.</summary>
public sealed class ShardedCheckpointTests
{
    static string SaveSharded(long shardBytes)
    {
        var dir = TinyModels.TempDir();
        using var model = TinyModels.Create(seed: 5);
        Checkpoint.Save(dir, model, TinyModels.Tokenizer, shardBytes: shardBytes);
        return dir;
    }

    [Fact]
    public void Weights_over_the_shard_size_go_to_shards_with_an_index_and_load_back_identically()
    {
        var dir = SaveSharded(shardBytes: 60_000);
        var shards = Directory.GetFiles(dir, "model-*-of-*.safetensors");
        Assert.True(shards.Length > 2, $"{shards.Length} shards");
        Assert.False(File.Exists(Path.Combine(dir, Checkpoint.WeightsFile)));
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, CheckpointShards.IndexFile)))!;
        var map = index["weight_map"]!.AsObject();
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", map.Select(kv => kv.Key));
        Assert.All(map, kv => Assert.Contains(kv.Value!.GetValue<string>(), shards.Select(Path.GetFileName)));
        long total = shards.Sum(s => SafeTensorsFile.Open(s).Entries.Values.Sum(e => e.End - e.Begin));
        Assert.Equal(total, index["metadata"]!["total_size"]!.GetValue<long>());

        var loaded = Checkpoint.Load(dir);
        using var original = TinyModels.Create(seed: 5);
        using (loaded.Model)
        {
            var theirs = loaded.Model.HfTensors().ToDictionary(t => t.Name, t => t.Tensor);
            foreach (var (name, tensor) in original.HfTensors()) Assert.True(tensor.equal(theirs[name]).all().item<bool>(), name);
        }
        // Saving again in one file removes the shards and the index.
        using (var model = TinyModels.Create(seed: 5)) Checkpoint.Save(dir, model, TinyModels.Tokenizer);
        Assert.Empty(Directory.GetFiles(dir, "model-*-of-*.safetensors"));
        Assert.False(File.Exists(Path.Combine(dir, CheckpointShards.IndexFile)));
    }

    [Fact]
    public void A_missing_shard_is_refused_naming_it_and_a_tensor_it_holds()
    {
        var dir = SaveSharded(shardBytes: 60_000);
        var shard = Directory.GetFiles(dir, "model-00002-of-*.safetensors").Single();
        File.Delete(shard);
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.Matches($@"{CheckpointShards.IndexFile}: shard '{Path.GetFileName(shard)}' \(holding '[^']+'( and \d+ more)?\) is missing", e.Message);
    }

    [Fact]
    public void An_index_naming_a_tensor_its_shard_lacks_is_refused()
    {
        var dir = SaveSharded(shardBytes: 60_000);
        var path = Path.Combine(dir, CheckpointShards.IndexFile);
        var index = JsonNode.Parse(File.ReadAllText(path))!;
        var first = index["weight_map"]!.AsObject().First().Value!.GetValue<string>();
        index["weight_map"]!["model.layers.9.mlp.up_proj.weight"] = first;
        File.WriteAllText(path, index.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(dir));
        Assert.Contains($"weight_map names 'model.layers.9.mlp.up_proj.weight' in shard '{first}', which has no such tensor", e.Message);
    }
}
