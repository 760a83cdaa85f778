using System.Text;
using System.Text.RegularExpressions;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// Byte-level BPE as Hugging Face tokenizers runs it for GPT-2, Llama 3 and Qwen2: added tokens are
/// cut out first, the rest is normalised, pre-tokenised, mapped to byte-level characters and merged
/// pair by pair in rank order. Built from a tokenizer.json by <see cref="TokenizerJson"/>.
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    readonly Dictionary<string, int> _vocab;
    readonly string[] _idToToken;
    readonly Dictionary<(string, string), int> _ranks;
    readonly Dictionary<string, AddedToken> _added;
    readonly Dictionary<int, AddedToken> _addedById;
    readonly Regex? _addedPattern;
    readonly NormalizationForm? _normalization;
    readonly PreTokenizer _preTokenizer;
    readonly bool _ignoreMerges;
    readonly string _json;
    readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    readonly Lock _cacheLock = new();

    internal BpeTokenizer(
        Dictionary<string, int> vocab, IReadOnlyList<(string, string)> merges, IReadOnlyList<AddedToken> added,
        NormalizationForm? normalization, PreTokenizer preTokenizer, bool ignoreMerges, string eosToken, string json)
    {
        _vocab = vocab;
        _ranks = new Dictionary<(string, string), int>();
        for (int i = 0; i < merges.Count; i++) _ranks.TryAdd(merges[i], i);
        _added = added.ToDictionary(a => a.Content, StringComparer.Ordinal);
        _addedById = added.ToDictionary(a => a.Id);
        int size = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);
        _idToToken = new string[size];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        foreach (var a in added) _idToToken[a.Id] = a.Content;
        if (added.Count > 0)
        {
            // Longest first, so "<|im_start|>" wins over any shorter token it contains.
            var alternatives = added.Select(a => a.Content).OrderByDescending(c => c.Length).Select(Regex.Escape);
            _addedPattern = new Regex(string.Join("|", alternatives), RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        _normalization = normalization;
        _preTokenizer = preTokenizer;
        _ignoreMerges = ignoreMerges;
        _json = json;
        EosId = TokenToId(eosToken) ?? throw new ArgumentException($"end-of-sequence token '{eosToken}' is not in the vocabulary");
        AddedTokens = added.Select(a => a.Content).ToArray();
    }

    public int VocabSize => _idToToken.Length;
    public int EosId { get; }
    public IReadOnlyList<string> AddedTokens { get; }

    public int? TokenToId(string token) =>
        _added.TryGetValue(token, out var a) ? a.Id : _vocab.TryGetValue(token, out var id) ? id : null;

    public int[] Encode(string text)
    {
        var ids = new List<int>();
        int at = 0;
        if (_addedPattern is not null)
        {
            foreach (Match m in _addedPattern.Matches(text))
            {
                EncodeOrdinary(text[at..m.Index], ids);
                ids.Add(_added[m.Value].Id);
                at = m.Index + m.Length;
            }
        }
        EncodeOrdinary(text[at..], ids);
        return ids.ToArray();
    }

    void EncodeOrdinary(string text, List<int> ids)
    {
        if (text.Length == 0) return;
        if (_normalization is { } form) text = text.Normalize(form);
        foreach (var piece in _preTokenizer.SplitWhole(text))
            ids.AddRange(EncodeWord(ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(piece))));
    }

    int[] EncodeWord(string word)
    {
        lock (_cacheLock)
        {
            if (_cache.TryGetValue(word, out var cached)) return cached;
        }
        int[] result;
        if (_ignoreMerges && _vocab.TryGetValue(word, out var whole)) result = [whole];
        else result = Merge(word).Select(s => _vocab.TryGetValue(s, out var id) ? id
            : throw new InvalidOperationException($"byte-level symbol '{s}' is missing from the vocabulary")).ToArray();
        lock (_cacheLock)
        {
            if (_cache.Count > 100_000) _cache.Clear();
            _cache[word] = result;
        }
        return result;
    }

    List<string> Merge(string word)
    {
        var symbols = word.Select(c => c.ToString()).ToList();
        while (symbols.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i < symbols.Count - 1; i++)
            {
                if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) break;
            var (left, right) = (symbols[best], symbols[best + 1]);
            var merged = new List<string>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i < symbols.Count - 1 && symbols[i] == left && symbols[i + 1] == right)
                {
                    merged.Add(left + right);
                    i++;
                }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }
        return symbols;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (id < 0 || id >= _idToToken.Length || _idToToken[id] is null)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {VocabSize})");
            if (_addedById.TryGetValue(id, out var added))
            {
                Flush(bytes, text);
                text.Append(added.Content);
            }
            else if (!ByteLevelAlphabet.TryDecode(_idToToken[id], bytes))
            {
                Flush(bytes, text);
                text.Append(_idToToken[id]);
            }
        }
        Flush(bytes, text);
        return text.ToString();
    }

    static void Flush(List<byte> bytes, StringBuilder text)
    {
        if (bytes.Count == 0) return;
        text.Append(Encoding.UTF8.GetString(bytes.ToArray()));
        bytes.Clear();
    }

    public void Save(string path) => File.WriteAllText(path, _json);
}
