using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Checkpoints;

/// <summary>
/// A checkpoint's weights in one model.safetensors or in shards listed by model.safetensors.index.json
/// (Hugging Face's layout: {"metadata": {"total_size"}, "weight_map": {tensor: shard file}}), read and
/// written. A missing shard, or an index naming a tensor its shard lacks, is refused naming both.
/// </summary>
public static class CheckpointShards
{
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>"5GB", "500MB", "2GiB" or a byte count as a number of bytes; null when it is none of these.</summary>
    public static long? ParseSize(string text)
    {
        var m = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (!m.Success) return null;
        double value = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double unit = m.Groups[2].Value.ToUpperInvariant() switch { "KB" => 1e3, "MB" => 1e6, "GB" => 1e9, "KIB" => 1024, "MIB" => 1 << 20, "GIB" => 1L << 30, _ => 1 };
        long bytes = (long)(value * unit);
        return bytes > 0 ? bytes : null;
    }

    /// <summary>Every tensor of the checkpoint in dir, with the file that holds it.</summary>
    public static IReadOnlyDictionary<string, (SafeTensorsFile File, SafeTensorEntry Entry)> Open(string dir)
    {
        var index = Path.Combine(dir, IndexFile);
        var result = new Dictionary<string, (SafeTensorsFile, SafeTensorEntry)>(StringComparer.Ordinal);
        if (!File.Exists(index))
        {
            var file = SafeTensorsFile.Open(Path.Combine(dir, Checkpoint.WeightsFile));
            foreach (var (name, entry) in file.Entries) result[name] = (file, entry);
            return result;
        }
        JsonObject? map;
        try { map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject; }
        catch (JsonException e) { throw new ModelFormatException(index, $"not valid JSON: {e.Message}"); }
        if (map is null) throw new ModelFormatException(index, "field 'weight_map' is missing or not an object");
        var byShard = map.GroupBy(kv => kv.Value?.GetValue<string>() ?? throw new ModelFormatException(index, $"weight_map['{kv.Key}'] is not a file name"))
            .ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).ToList());
        foreach (var (shard, names) in byShard)
        {
            var path = Path.Combine(dir, shard);
            if (!File.Exists(path))
                throw new ModelFormatException(index, $"shard '{shard}' (holding '{names[0]}'{(names.Count > 1 ? $" and {names.Count - 1} more" : "")}) is missing");
            var file = SafeTensorsFile.Open(path);
            foreach (var name in names)
            {
                if (!file.Entries.TryGetValue(name, out var entry))
                    throw new ModelFormatException(index, $"weight_map names '{name}' in shard '{shard}', which has no such tensor");
                result[name] = (file, entry);
            }
        }
        return result;
    }

    /// <summary>
    /// Writes tensors to dir: one model.safetensors when they fit in shardBytes, else shards of at most
    /// shardBytes (a larger tensor gets one of its own) and the index. Each shard's tensors are copied to
    /// the CPU only while that shard is written. Weight files of an earlier save are removed.
    /// </summary>
    public static void Write(string dir, IReadOnlyList<(string Name, Tensor Tensor)> tensors, long shardBytes)
    {
        var shards = new List<List<(string, Tensor)>> { new() };
        long size = 0, total = 0;
        foreach (var (name, t) in tensors)
        {
            long bytes = t.NumberOfElements * t.ElementSize;
            if (size > 0 && size + bytes > shardBytes) { shards.Add([]); size = 0; }
            shards[^1].Add((name, t));
            size += bytes;
            total += bytes;
        }
        foreach (var old in Directory.GetFiles(dir, "model*.safetensors").Append(Path.Combine(dir, IndexFile)).Where(File.Exists)) File.Delete(old);
        if (shards.Count == 1)
        {
            SafeTensorsFile.Write(Path.Combine(dir, Checkpoint.WeightsFile), shards[0]);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var file = $"model-{i + 1:00000}-of-{shards.Count:00000}.safetensors";
            SafeTensorsFile.Write(Path.Combine(dir, file), shards[i]);
            foreach (var (name, _) in shards[i]) weightMap[name] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
        File.WriteAllText(Path.Combine(dir, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
