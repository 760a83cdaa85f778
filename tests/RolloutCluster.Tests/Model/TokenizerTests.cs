using System.Text.Json.Nodes;
using RolloutCluster.Model;
using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Tests.Model;

public sealed class TokenizerTests
{
    const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly TheoryData<string> Samples = new()
    {
        "",
        "Compute: 37 + 485 = 522",
        "The quick brown fox jumps over the lazy dog.\n\n\tIndented\r\nlines  with   spaces ",
        "naïve café, Grüße, Ελληνικά, русский, 中文字符, 日本語のテキスト, 한국어",
        "emoji 🙂🚀 and a family 👨‍👩‍👧 and flags 🇫🇷",
        "astral letters 𝐀𝐁𝐂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "<think>step 1: 7 + 5 = 12, carry 1</think><answer>522</answer><|endoftext|>",
        "it's they're we've I'm you'll he'd 12345678 3.14159",
    };

    /// <summary>A byte-level BPE tokenizer.json with Qwen2's pre-tokenizer and a handful of merges.</summary>
    static string BuildTokenizerJson()
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevelAlphabet.Char((byte)b).ToString(), b => b);
        (string, string)[] merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"), ("ä", "¸"), ("1", "2")];
        foreach (var (a, b) in merges) vocab[a + b] = vocab.Count;
        var preTokenizer = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Qwen2Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }),
        };
        int next = vocab.Count;
        var added = new[] { "<|endoftext|>", "<|im_start|>", "<think>", "</think>", "<answer>", "</answer>" }
            .Select((t, i) => new AddedToken(next + i, t, t.StartsWith("<|", StringComparison.Ordinal)));
        return TokenizerJson.Create(vocab, merges, added, preTokenizer, normalizer: "NFC");
    }

    static ITokenizer LoadBpe()
    {
        var path = Path.Combine(TinyModels.TempDir(), "tokenizer.json");
        File.WriteAllText(path, BuildTokenizerJson());
        return TokenizerJson.Load(path);
    }

    [Theory, MemberData(nameof(Samples))]
    public void Byte_tokenizer_round_trips(string text)
    {
        var tokenizer = TinyModels.Tokenizer;
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Theory, MemberData(nameof(Samples))]
    public void Bpe_tokenizer_round_trips(string text)
    {
        var tokenizer = LoadBpe();
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Bpe_merges_apply_in_rank_order_after_the_regex_split()
    {
        var tokenizer = LoadBpe();
        int Id(string token) => tokenizer.TokenToId(token)!.Value;
        // "the" and " theater" are separate pieces; within " theater": Ġ+t, h+e, Ġt+he, then e+r.
        Assert.Equal([Id("t"), Id("he"), Id("Ġthe"), Id("a"), Id("t"), Id("er")], tokenizer.Encode("the theater"));
        // Qwen2's pattern splits digits one by one, so the "12" merge never applies.
        Assert.Equal([Id("1"), Id("2")], tokenizer.Encode("12"));
    }

    [Fact]
    public void Added_tokens_encode_as_single_ids_in_both_tokenizers()
    {
        foreach (var tokenizer in new[] { TinyModels.Tokenizer, LoadBpe() })
        {
            var ids = tokenizer.Encode("a<think>b</think><answer>7</answer><|endoftext|>");
            Assert.Equal(8, ids.Length);
            Assert.Equal(tokenizer.TokenToId("<think>"), ids[1]);
            Assert.Equal(tokenizer.EosId, ids[^1]);
        }
    }

    [Theory, MemberData(nameof(Samples))]
    public void The_byte_tokenizers_json_gives_the_same_ids(string text)
    {
        var path = Path.Combine(TinyModels.TempDir(), "tokenizer.json");
        TinyModels.Tokenizer.Save(path);
        var reloaded = TokenizerJson.Load(path);
        Assert.Equal(TinyModels.Tokenizer.Encode(text), reloaded.Encode(text));
        Assert.Equal(TinyModels.Tokenizer.VocabSize, reloaded.VocabSize);
        Assert.Equal(TinyModels.Tokenizer.EosId, reloaded.EosId);
    }

    [Fact]
    public void Invalid_utf8_decodes_to_the_replacement_character()
    {
        Assert.Equal("a\uFFFDb", TinyModels.Tokenizer.Decode([97, 0xE4, 98]));
    }

    [Fact]
    public void Unsupported_tokenizer_models_are_refused_with_the_field()
    {
        var path = Path.Combine(TinyModels.TempDir(), "tokenizer.json");
        File.WriteAllText(path, BuildTokenizerJson().Replace("\"type\": \"BPE\"", "\"type\": \"Unigram\""));
        var e = Assert.Throws<ModelFormatException>(() => TokenizerJson.Load(path));
        Assert.Contains("'model.type' is \"Unigram\"", e.Message);
    }
}
