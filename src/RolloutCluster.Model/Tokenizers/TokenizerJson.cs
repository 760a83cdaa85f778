using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// Reads and writes Hugging Face tokenizer.json files for byte-level BPE models. Anything this
/// implementation cannot reproduce exactly (another model type, byte fallback, unknown steps) is
/// refused with the file and the field named, rather than encoded differently from Python.
/// </summary>
public static class TokenizerJson
{
    /// <summary>End-of-sequence candidates, in order, when no tokenizer_config.json names one.</summary>
    static readonly string[] EosCandidates = ["<|endoftext|>", "<|im_end|>", "<|end_of_text|>", "<|eot_id|>", "</s>"];

    /// <summary>Loads tokenizer.json; the end-of-sequence token comes from tokenizer_config.json beside it when present.</summary>
    public static ITokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        var text = File.ReadAllText(path);
        JsonNode? root;
        try { root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false }); }
        catch (JsonException e) { throw new ModelFormatException(path, $"not valid JSON: {e.Message}"); }
        if (root is not JsonObject obj) throw new ModelFormatException(path, "expected a JSON object at the top level");
        try
        {
            return Parse(obj, text, EosFromConfig(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json")));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            throw new ModelFormatException(path, e.Message);
        }
    }

    /// <summary>Parses tokenizer.json text (e.g. received over the wire); source names it in errors.</summary>
    public static ITokenizer Parse(string json, string? eosToken, string source = "<tokenizer.json>")
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new ModelFormatException(source, $"not valid JSON: {e.Message}"); }
        if (root is not JsonObject obj) throw new ModelFormatException(source, "expected a JSON object at the top level");
        try { return Parse(obj, json, eosToken); }
        catch (Exception e) when (e is FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            throw new ModelFormatException(source, e.Message);
        }
    }

    /// <summary>A tokenizer's tokenizer.json text.</summary>
    public static string ToJson(ITokenizer tokenizer)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tokenizer-{Guid.NewGuid():N}.json");
        try
        {
            tokenizer.Save(path);
            return File.ReadAllText(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    static string? EosFromConfig(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path))?["eos_token"];
            return node switch
            {
                JsonValue v => v.GetValue<string>(),
                JsonObject o => o["content"]?.GetValue<string>(),
                _ => null,
            };
        }
        catch (JsonException e) { throw new ModelFormatException(path, $"not valid JSON: {e.Message}"); }
    }

    static BpeTokenizer Parse(JsonObject root, string json, string? eosToken)
    {
        var model = root["model"] as JsonObject ?? throw new FormatException("field 'model' is missing");
        var type = model["type"]?.GetValue<string>();
        if (type != "BPE") throw new FormatException($"field 'model.type' is \"{type}\"; only \"BPE\" is supported");
        if (model["byte_fallback"]?.GetValue<bool>() == true)
            throw new FormatException("field 'model.byte_fallback' is true; only byte-level BPE is supported");
        var vocabNode = model["vocab"] as JsonObject ?? throw new FormatException("field 'model.vocab' is missing or not an object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocabNode) vocab[token] = id!.GetValue<int>();

        var merges = new List<(string, string)>();
        int index = 0;
        foreach (var m in model["merges"] as JsonArray ?? [])
        {
            merges.Add(m switch
            {
                JsonArray pair when pair.Count == 2 => (pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()),
                JsonValue v when v.GetValue<string>().Split(' ') is [var a, var b] => (a, b),
                _ => throw new FormatException($"field 'model.merges[{index}]' is not a pair of symbols"),
            });
            index++;
        }

        var added = new List<AddedToken>();
        foreach (var a in root["added_tokens"] as JsonArray ?? [])
        {
            added.Add(new AddedToken(a!["id"]!.GetValue<int>(), a["content"]!.GetValue<string>(), a["special"]?.GetValue<bool>() ?? false));
        }
        var eos = eosToken ?? EosCandidates.FirstOrDefault(c => added.Any(a => a.Content == c) || vocab.ContainsKey(c))
            ?? throw new FormatException("no end-of-sequence token: add one of " + string.Join(", ", EosCandidates) + " or a tokenizer_config.json with eos_token");
        return new BpeTokenizer(vocab, merges, added, ParseNormalizer(root["normalizer"], "normalizer"),
            ParsePreTokenizer(root["pre_tokenizer"], "pre_tokenizer") ?? new PreTokenizer.ByteLevel(false, true),
            model["ignore_merges"]?.GetValue<bool>() ?? false, eos, json);
    }

    static NormalizationForm? ParseNormalizer(JsonNode? node, string path)
    {
        if (node is null) return null;
        var type = node["type"]?.GetValue<string>();
        return type switch
        {
            "NFC" => NormalizationForm.FormC,
            "NFD" => NormalizationForm.FormD,
            "NFKC" => NormalizationForm.FormKC,
            "NFKD" => NormalizationForm.FormKD,
            "Sequence" when node["normalizers"] is JsonArray { Count: 0 } => null,
            "Sequence" when node["normalizers"] is JsonArray { Count: 1 } one => ParseNormalizer(one[0], path + ".normalizers[0]"),
            _ => throw new FormatException($"field '{path}.type' is \"{type}\"; supported: NFC, NFD, NFKC, NFKD"),
        };
    }

    static PreTokenizer? ParsePreTokenizer(JsonNode? node, string path)
    {
        if (node is null) return null;
        var type = node["type"]?.GetValue<string>();
        switch (type)
        {
            case "ByteLevel":
                return new PreTokenizer.ByteLevel(node["add_prefix_space"]?.GetValue<bool>() ?? false, node["use_regex"]?.GetValue<bool>() ?? true);
            case "Digits":
                return new PreTokenizer.Digits(node["individual_digits"]?.GetValue<bool>() ?? false);
            case "Split":
                var behavior = node["behavior"]?.GetValue<string>();
                if (behavior != "Isolated") throw new FormatException($"field '{path}.behavior' is \"{behavior}\"; only \"Isolated\" is supported");
                if (node["invert"]?.GetValue<bool>() == true) throw new FormatException($"field '{path}.invert' is true; not supported");
                var pattern = node["pattern"]?["Regex"]?.GetValue<string>()
                    ?? (node["pattern"]?["String"]?.GetValue<string>() is { } s ? System.Text.RegularExpressions.Regex.Escape(s) : null)
                    ?? throw new FormatException($"field '{path}.pattern' needs a Regex or String");
                return new PreTokenizer.RegexSplit(pattern);
            case "Sequence":
                var steps = (node["pretokenizers"] as JsonArray ?? throw new FormatException($"field '{path}.pretokenizers' is missing"))
                    .Select((s, i) => ParsePreTokenizer(s, $"{path}.pretokenizers[{i}]")!).ToList();
                return new PreTokenizer.Sequence(steps);
            default:
                throw new FormatException($"field '{path}.type' is \"{type}\"; supported: ByteLevel, Split, Digits, Sequence");
        }
    }

    /// <summary>
    /// Builds tokenizer.json text for a byte-level BPE model. preTokenizer is a tokenizer.json
    /// pre_tokenizer object; null means ByteLevel without regex splitting.
    /// </summary>
    public static string Create(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string, string)> merges,
        IEnumerable<AddedToken> added, JsonObject? preTokenizer = null, string? normalizer = null)
    {
        var vocabObject = new JsonObject();
        foreach (var (token, id) in vocab.OrderBy(x => x.Value)) vocabObject[token] = id;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(added.Select(a => (JsonNode)new JsonObject
            {
                ["id"] = a.Id, ["content"] = a.Content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = a.Special,
            }).ToArray()),
            ["normalizer"] = normalizer is null ? null : new JsonObject { ["type"] = normalizer },
            ["pre_tokenizer"] = preTokenizer ?? new JsonObject
            {
                ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false,
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject
            {
                ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false,
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocabObject,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m.Item1, m.Item2)).ToArray()),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
