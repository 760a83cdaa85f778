using System.Text;
using System.Text.RegularExpressions;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// The tokenizer of the small built-in models: one id per UTF-8 byte (0-255), then added tokens.
/// It saves as a byte-level BPE tokenizer.json with no merges, so Hugging Face tokenizers and
/// <see cref="BpeTokenizer"/> give the same ids.
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    /// <summary>Added tokens of the built-in models: end of text, chat turns and the R1 template tags.</summary>
    public static readonly IReadOnlyList<string> DefaultAddedTokens =
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<answer>", "</answer>"];

    readonly string[] _added;
    readonly Dictionary<string, int> _addedIds;
    readonly Regex? _pattern;

    public ByteTokenizer(IReadOnlyList<string>? addedTokens = null)
    {
        _added = (addedTokens ?? DefaultAddedTokens).ToArray();
        if (_added.Length == 0) throw new ArgumentException("a byte tokenizer needs at least an end-of-text token", nameof(addedTokens));
        _addedIds = _added.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => 256 + x.i, StringComparer.Ordinal);
        _pattern = new Regex(string.Join("|", _added.OrderByDescending(t => t.Length).Select(Regex.Escape)), RegexOptions.Compiled);
    }

    public int VocabSize => 256 + _added.Length;
    public int EosId => 256;
    public IReadOnlyList<string> AddedTokens => _added;

    public int? TokenToId(string token) => _addedIds.TryGetValue(token, out var id) ? id : null;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length + 8);
        int at = 0;
        foreach (Match m in _pattern!.Matches(text))
        {
            foreach (var b in Encoding.UTF8.GetBytes(text[at..m.Index])) ids.Add(b);
            ids.Add(_addedIds[m.Value]);
            at = m.Index + m.Length;
        }
        foreach (var b in Encoding.UTF8.GetBytes(text[at..])) ids.Add(b);
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (id is >= 0 and < 256) { bytes.Add((byte)id); continue; }
            if (id < 256 || id >= VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {VocabSize})");
            if (bytes.Count > 0) { text.Append(Encoding.UTF8.GetString(bytes.ToArray())); bytes.Clear(); }
            text.Append(_added[id - 256]);
        }
        if (bytes.Count > 0) text.Append(Encoding.UTF8.GetString(bytes.ToArray()));
        return text.ToString();
    }

    public void Save(string path)
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevelAlphabet.Char((byte)b).ToString(), b => b);
        var added = _added.Select((t, i) => new AddedToken(256 + i, t, Special: t.StartsWith("<|", StringComparison.Ordinal)));
        File.WriteAllText(path, TokenizerJson.Create(vocab, [], added));
    }
}
