using System.Text.Json.Nodes;
using RolloutCluster.Model;
using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Tests.Model;

/// <summary>Hugging Face tokenizer.json features one at a time, on small hand-made files: split behaviours, added-token flags, post-processors, refusals.</summary>
public sealed class TokenizerJsonTests
{
    static JsonObject Json(JsonObject? preTokenizer = null, JsonArray? added = null, JsonNode? postProcessor = null, JsonNode? normalizer = null)
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevelAlphabet.Char((byte)b).ToString(), b => b);
        var root = (JsonObject)JsonNode.Parse(TokenizerJson.Create(vocab, [], [new AddedToken(256, "<|endoftext|>", true)]))!;
        if (preTokenizer is not null) root["pre_tokenizer"] = preTokenizer;
        if (added is not null) root["added_tokens"] = added;
        if (postProcessor is not null) root["post_processor"] = postProcessor;
        if (normalizer is not null) root["normalizer"] = normalizer;
        return root;
    }

    static BpeTokenizer Load(JsonObject json) => (BpeTokenizer)TokenizerJson.Parse(json.ToJsonString(), "<|endoftext|>", "t.json");

    static string[] Pieces(BpeTokenizer tokenizer, string text) => tokenizer.Encode(text).Select(id => tokenizer.Decode([id])).ToArray();

    static JsonObject Split(string regex, string behavior, bool invert = false) =>
        new() { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = regex }, ["behavior"] = behavior, ["invert"] = invert };

    [Theory]
    [InlineData("Isolated", false, "a|,|b|,|,|c")]
    [InlineData("Removed", false, "a|b|c")]
    [InlineData("MergedWithPrevious", false, "a,|b,|,|c")]
    [InlineData("MergedWithNext", false, "a|,b|,|,c")]
    [InlineData("Contiguous", false, "a|,|b|,,|c")]
    [InlineData("Removed", true, ",|,|,")]
    public void Split_keeps_drops_or_merges_delimiters_by_behaviour(string behavior, bool invert, string expected)
    {
        var split = new PreTokenizer.RegexSplit(",", Enum.Parse<PreTokenizer.Behavior>(behavior), invert);
        Assert.Equal(expected, string.Join("|", split.Split("a,b,,c")));
        // The same setting read from a tokenizer.json: removed delimiters are not encoded at all.
        var tokenizer = Load(Json(new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(Split(",", behavior, invert)) }));
        Assert.Equal(expected.Replace("|", ""), tokenizer.Decode(tokenizer.Encode("a,b,,c")));
    }

    [Fact]
    public void Patterns_match_by_code_point_so_astral_letters_and_emoji_are_letters_and_symbols()
    {
        var split = new PreTokenizer.RegexSplit(@"\p{L}+|\p{So}+|\p{N}+");
        Assert.Equal(["𝐀𝐁x", " ", "🙂🚀", "𝟏𝟐"], split.Split("𝐀𝐁x 🙂🚀𝟏𝟐"));
    }

    [Fact]
    public void Added_token_flags_strip_whitespace_and_respect_word_boundaries()
    {
        var added = new JsonArray(
            new JsonObject { ["id"] = 256, ["content"] = "<|endoftext|>", ["special"] = true, ["normalized"] = false },
            new JsonObject { ["id"] = 257, ["content"] = "<mask>", ["special"] = true, ["lstrip"] = true, ["rstrip"] = true, ["normalized"] = false },
            new JsonObject { ["id"] = 258, ["content"] = "cat", ["special"] = false, ["single_word"] = true, ["normalized"] = false },
            new JsonObject { ["id"] = 259, ["content"] = "DOG", ["special"] = false, ["normalized"] = true });
        var tokenizer = Load(Json(added: added, normalizer: new JsonObject { ["type"] = "Lowercase" }));
        Assert.Equal(["a", "<mask>", "b"], Pieces(tokenizer, "a  <mask>  b"));          // lstrip and rstrip take the spaces
        Assert.Equal(["cat", " ", "cat"], Pieces(tokenizer, "cat cat"));
        Assert.DoesNotContain(258, tokenizer.Encode("concatenate"));                     // single_word: not inside a word
        Assert.DoesNotContain(259, tokenizer.Encode("DOG"));                             // normalized: matched after lowercasing, so "DOG" is never seen
        var lowerDog = Load(Json(added: new JsonArray(new JsonObject { ["id"] = 256, ["content"] = "<|endoftext|>", ["special"] = true },
            new JsonObject { ["id"] = 257, ["content"] = "dog", ["special"] = false, ["normalized"] = true }), normalizer: new JsonObject { ["type"] = "Lowercase" }));
        Assert.Equal([257], lowerDog.Encode("DOG"));
    }

    [Fact]
    public void A_template_post_processor_adds_its_special_tokens_only_when_asked()
    {
        var post = new JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new JsonArray(
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|endoftext|>", ["type_id"] = 0 } },
                        new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                    ["special_tokens"] = new JsonObject { ["<|endoftext|>"] = new JsonObject { ["id"] = "<|endoftext|>", ["ids"] = new JsonArray(256), ["tokens"] = new JsonArray("<|endoftext|>") } },
                }),
        };
        var tokenizer = Load(Json(postProcessor: post));
        Assert.Equal([(int)'h', (int)'i'], tokenizer.Encode("hi"));
        Assert.Equal([256, (int)'h', (int)'i'], tokenizer.Encode("hi", addSpecialTokens: true));
        Assert.Equal("hi", tokenizer.Decode([256, 'h', 'i'], skipSpecialTokens: true));
    }

    [Theory]
    [InlineData("model.type", "WordPiece", "field 'model.type' is \"WordPiece\"; only byte-level \"BPE\" is supported")]
    [InlineData("pre_tokenizer", "Metaspace", "field 'pre_tokenizer.type' is \"Metaspace\": SentencePiece-style tokenizers (Llama 2, Mistral) are not supported")]
    [InlineData("pre_tokenizer", "Whitespace", "field 'pre_tokenizer.type' is \"Whitespace\"; supported: ByteLevel, Split, Digits, Sequence")]
    [InlineData("normalizer", "BertNormalizer", "field 'normalizer.type' is \"BertNormalizer\"; supported:")]
    [InlineData("post_processor", "BertProcessing", "field 'post_processor.type' is \"BertProcessing\"; supported:")]
    [InlineData("decoder", "WordPiece", "field 'decoder.type' is \"WordPiece\"; supported: ByteLevel")]
    [InlineData("model.byte_fallback", "true", "field 'model.byte_fallback' is true: Metaspace / byte-fallback BPE (Llama 2, Mistral) is not supported")]
    public void Unsupported_settings_are_refused_naming_the_field(string field, string value, string message)
    {
        var json = Json();
        switch (field)
        {
            case "model.type": json["model"]!["type"] = value; break;
            case "model.byte_fallback": json["model"]!["byte_fallback"] = true; break;
            default: json[field] = new JsonObject { ["type"] = value }; break;
        }
        var e = Assert.Throws<ModelFormatException>(() => Load(json));
        Assert.Contains("t.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void An_invalid_regex_names_the_field_and_the_reason()
    {
        var json = Json(new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(Split("(unclosed", "Isolated")) });
        var e = Assert.Throws<ModelFormatException>(() => Load(json));
        Assert.Contains("field 'pre_tokenizer.pretokenizers[0].pattern.Regex' is not a valid regular expression:", e.Message);
    }
}
