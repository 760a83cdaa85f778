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
            var configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json");
            var tokenizer = Parse(obj, text, EosFromConfig(configPath));
            tokenizer.Config = File.Exists(configPath) ? JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject : null;
            return tokenizer;
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
        if (type != "BPE")
            throw new FormatException($"field 'model.type' is \"{type}\"; only byte-level \"BPE\" is supported (WordPiece, Unigram and WordLevel models are not)");
        if (model["byte_fallback"]?.GetValue<bool>() == true)
            throw new FormatException("field 'model.byte_fallback' is true: Metaspace / byte-fallback BPE (Llama 2, Mistral) is not supported; only byte-level BPE");
        foreach (var field in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model[field] is JsonValue v && v.GetValue<string>() is { Length: > 0 } affix)
                throw new FormatException($"field 'model.{field}' is \"{affix}\"; not supported by byte-level BPE");
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
            bool Flag(string name) => a![name]?.GetValue<bool>() ?? false;
            added.Add(new AddedToken(a!["id"]!.GetValue<int>(), a["content"]!.GetValue<string>(), Flag("special"), Flag("single_word"), Flag("lstrip"), Flag("rstrip"),
                a["normalized"]?.GetValue<bool>() ?? !Flag("special")));
        }
        var eos = eosToken ?? EosCandidates.FirstOrDefault(c => added.Any(a => a.Content == c) || vocab.ContainsKey(c))
            ?? throw new FormatException("no end-of-sequence token: add one of " + string.Join(", ", EosCandidates) + " or a tokenizer_config.json with eos_token");
        CheckDecoder(root["decoder"], "decoder");
        var tokenIds = added.GroupBy(a => a.Content).ToDictionary(g => g.Key, g => g.First().Id, StringComparer.Ordinal);
        return new BpeTokenizer(vocab, merges, added, ParseNormalizer(root["normalizer"], "normalizer"),
            ParsePreTokenizer(root["pre_tokenizer"], "pre_tokenizer") ?? new PreTokenizer.ByteLevel(false, true),
            ParsePostProcessor(root["post_processor"], "post_processor", t => tokenIds.TryGetValue(t, out var id) ? id : vocab.TryGetValue(t, out var v) ? v : null),
            model["ignore_merges"]?.GetValue<bool>() ?? false, eos, json);
    }

    static TextNormalizer? ParseNormalizer(JsonNode? node, string path)
    {
        if (node is null) return null;
        var type = node["type"]?.GetValue<string>();
        return type switch
        {
            "NFC" => new TextNormalizer.Form(NormalizationForm.FormC),
            "NFD" => new TextNormalizer.Form(NormalizationForm.FormD),
            "NFKC" => new TextNormalizer.Form(NormalizationForm.FormKC),
            "NFKD" => new TextNormalizer.Form(NormalizationForm.FormKD),
            "Lowercase" => new TextNormalizer.Lowercase(),
            "Prepend" => new TextNormalizer.Prepend(node["prepend"]?.GetValue<string>() ?? throw new FormatException($"field '{path}.prepend' is missing")),
            "Replace" when node["pattern"]?["String"]?.GetValue<string>() is { } literal =>
                new TextNormalizer.Replace(literal, node["content"]?.GetValue<string>() ?? throw new FormatException($"field '{path}.content' is missing")),
            "Replace" => throw new FormatException($"field '{path}.pattern': only a String pattern is supported for Replace"),
            "Sequence" => (node["normalizers"] as JsonArray ?? throw new FormatException($"field '{path}.normalizers' is missing")) is { Count: 0 } ? null
                : new TextNormalizer.Sequence(((JsonArray)node["normalizers"]!).Select((n, i) => ParseNormalizer(n, $"{path}.normalizers[{i}]")).OfType<TextNormalizer>().ToList()),
            _ => throw new FormatException($"field '{path}.type' is \"{type}\"; supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence"),
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
                if (!Enum.TryParse<PreTokenizer.Behavior>(behavior, out var how) || !Enum.IsDefined(how))
                    throw new FormatException($"field '{path}.behavior' is \"{behavior}\"; supported: {string.Join(", ", Enum.GetNames<PreTokenizer.Behavior>())}");
                var pattern = node["pattern"]?["Regex"]?.GetValue<string>()
                    ?? (node["pattern"]?["String"]?.GetValue<string>() is { } s ? System.Text.RegularExpressions.Regex.Escape(s) : null)
                    ?? throw new FormatException($"field '{path}.pattern' needs a Regex or String");
                try { return new PreTokenizer.RegexSplit(pattern, how, node["invert"]?.GetValue<bool>() ?? false); }
                catch (ArgumentException e) { throw new FormatException($"field '{path}.pattern.Regex' is not a valid regular expression: {e.Message}"); }
            case "Sequence":
                var steps = (node["pretokenizers"] as JsonArray ?? throw new FormatException($"field '{path}.pretokenizers' is missing"))
                    .Select((s, i) => ParsePreTokenizer(s, $"{path}.pretokenizers[{i}]")!).ToList();
                return new PreTokenizer.Sequence(steps);
            case "Metaspace":
                throw new FormatException($"field '{path}.type' is \"Metaspace\": SentencePiece-style tokenizers (Llama 2, Mistral) are not supported; only byte-level BPE");
            default:
                throw new FormatException($"field '{path}.type' is \"{type}\"; supported: ByteLevel, Split, Digits, Sequence");
        }
    }

    static PostProcessor ParsePostProcessor(JsonNode? node, string path, Func<string, int?> idOf)
    {
        if (node is null) return new PostProcessor.None();
        var type = node["type"]?.GetValue<string>();
        switch (type)
        {
            case "ByteLevel":
                return new PostProcessor.None();   // offsets only
            case "Sequence":
                return new PostProcessor.Sequence((node["processors"] as JsonArray ?? throw new FormatException($"field '{path}.processors' is missing"))
                    .Select((p, i) => ParsePostProcessor(p, $"{path}.processors[{i}]", idOf)).ToList());
            case "TemplateProcessing":
                var specials = node["special_tokens"] as JsonObject;
                var items = new List<int[]?>();
                foreach (var (item, i) in (node["single"] as JsonArray ?? throw new FormatException($"field '{path}.single' is missing")).Select((x, i) => (x, i)))
                {
                    if (item?["Sequence"] is { } sequence)
                    {
                        if (sequence["id"]?.GetValue<string>() != "A") throw new FormatException($"field '{path}.single[{i}].Sequence.id' must be \"A\" for a single sequence");
                        items.Add(null);
                    }
                    else if (item?["SpecialToken"]?["id"]?.GetValue<string>() is { } name)
                    {
                        var ids = specials?[name]?["ids"] is JsonArray list ? list.Select(x => x!.GetValue<int>()).ToArray()
                            : idOf(name) is { } id ? [id] : throw new FormatException($"field '{path}.single[{i}]': special token \"{name}\" is neither in special_tokens nor in the vocabulary");
                        items.Add(ids);
                    }
                    else throw new FormatException($"field '{path}.single[{i}]' must be a Sequence or a SpecialToken");
                }
                return new PostProcessor.Template(items);
            default:
                throw new FormatException($"field '{path}.type' is \"{type}\"; supported: ByteLevel, TemplateProcessing, Sequence");
        }
    }

    /// <summary>The decoder must be one this tokenizer's decoding reproduces: byte-level, possibly in a sequence.</summary>
    static void CheckDecoder(JsonNode? node, string path)
    {
        if (node is null) return;
        var type = node["type"]?.GetValue<string>();
        if (type == "ByteLevel") return;
        if (type == "Sequence" && node["decoders"] is JsonArray decoders)
        {
            foreach (var (d, i) in decoders.Select((d, i) => (d, i))) CheckDecoder(d, $"{path}.decoders[{i}]");
            return;
        }
        throw new FormatException($"field '{path}.type' is \"{type}\"; supported: ByteLevel (and Sequence of it)");
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
