namespace RolloutCluster.Model.Tokenizers;

/// <summary>Text to token ids and back. Implementations round-trip any valid Unicode text exactly.</summary>
public interface ITokenizer
{
    /// <summary>Number of ids, special tokens included.</summary>
    int VocabSize { get; }

    /// <summary>The id that ends a sequence (and pads batches in training).</summary>
    int EosId { get; }

    /// <summary>Added tokens (e.g. &lt;|endoftext|&gt;, &lt;think&gt;) that the text may contain and that encode as one id each.</summary>
    IReadOnlyList<string> AddedTokens { get; }

    /// <summary>Encodes text; added tokens written in the text become their single ids. No special tokens are added around it.</summary>
    int[] Encode(string text);

    /// <summary>Encodes text; with addSpecialTokens, the tokenizer's post-processor adds its special tokens (e.g. a beginning-of-text id).</summary>
    int[] Encode(string text, bool addSpecialTokens) => Encode(text);

    /// <summary>Decodes ids; bytes that are not valid UTF-8 on their own decode to U+FFFD.</summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>Decodes ids, leaving special tokens out when asked.</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens) => Decode(ids);

    /// <summary>The tokenizer_config.json it was loaded with (chat template, special tokens), kept so checkpoints write it back; null when none.</summary>
    System.Text.Json.Nodes.JsonObject? Config => null;

    /// <summary>The id of a token string (an added token or a vocabulary entry), or null.</summary>
    int? TokenToId(string token);

    /// <summary>Writes a Hugging Face tokenizer.json that reproduces this tokenizer.</summary>
    void Save(string path);
}
