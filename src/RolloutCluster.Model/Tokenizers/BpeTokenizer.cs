using System.Text;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// Byte-level BPE as Hugging Face tokenizers runs it for GPT-2, Llama 3, Qwen2/3 and DeepSeek-V3/R1:
/// added tokens that are special or not normalised are cut out of the raw text first, the rest is
/// normalised, the normalised added tokens are cut out of it, then each remaining piece is
/// pre-tokenised (patterns by code point), mapped to byte-level characters and merged pair by pair in
/// rank order; with special tokens asked for, the post-processor's template wraps the ids. Built from a
/// tokenizer.json by <see cref="TokenizerJson"/>.
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    readonly Dictionary<string, int> _vocab;
    readonly string[] _idToToken;
    readonly Dictionary<(string, string), int> _ranks;
    readonly Dictionary<string, AddedToken> _added;
    readonly Dictionary<int, AddedToken> _addedById;
    readonly AddedTokenMatcher _raw;
    readonly AddedTokenMatcher _normalizedTokens;
    readonly TextNormalizer? _normalizer;
    readonly PreTokenizer _preTokenizer;
    readonly PostProcessor _postProcessor;
    readonly bool _ignoreMerges;
    readonly string _json;
    readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    readonly Lock _cacheLock = new();

    internal BpeTokenizer(
        Dictionary<string, int> vocab, IReadOnlyList<(string, string)> merges, IReadOnlyList<AddedToken> added,
        TextNormalizer? normalizer, PreTokenizer preTokenizer, PostProcessor postProcessor, bool ignoreMerges, string eosToken, string json)
    {
        _vocab = vocab;
        _ranks = new Dictionary<(string, string), int>();
        for (int i = 0; i < merges.Count; i++) _ranks.TryAdd(merges[i], i);
        _added = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (var a in added) _added.TryAdd(a.Content, a);
        _addedById = new Dictionary<int, AddedToken>();
        foreach (var a in added) _addedById.TryAdd(a.Id, a);
        int size = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);
        _idToToken = new string[size];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        foreach (var a in added) _idToToken[a.Id] = a.Content;
        _raw = new AddedTokenMatcher(added.Where(a => a.Special || !a.Normalized));
        _normalizedTokens = new AddedTokenMatcher(added.Where(a => !a.Special && a.Normalized));
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _postProcessor = postProcessor;
        _ignoreMerges = ignoreMerges;
        _json = json;
        EosId = TokenToId(eosToken) ?? throw new ArgumentException($"end-of-sequence token '{eosToken}' is not in the vocabulary");
        AddedTokens = added.Select(a => a.Content).ToArray();
    }

    public int VocabSize => _idToToken.Length;

    /// <summary>The tokenizer_config.json beside the tokenizer.json it was loaded from, as it was.</summary>
    public System.Text.Json.Nodes.JsonObject? Config { get; internal set; }
    public int EosId { get; }
    public IReadOnlyList<string> AddedTokens { get; }

    public int? TokenToId(string token) =>
        _added.TryGetValue(token, out var a) ? a.Id : _vocab.TryGetValue(token, out var id) ? id : null;

    public int[] Encode(string text) => Encode(text, addSpecialTokens: false);

    /// <summary>Encodes text; with addSpecialTokens the post-processor's template adds its special tokens (e.g. a BOS).</summary>
    public int[] Encode(string text, bool addSpecialTokens)
    {
        var ids = new List<int>();
        foreach (var (token, piece) in _raw.Split(text))
        {
            if (token is not null) { ids.Add(token.Id); continue; }
            var normalized = _normalizer?.Apply(piece) ?? piece;
            foreach (var (inner, part) in _normalizedTokens.Split(normalized))
            {
                if (inner is not null) ids.Add(inner.Id);
                else foreach (var word in _preTokenizer.SplitWhole(part)) ids.AddRange(EncodeWord(ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(word))));
            }
        }
        return addSpecialTokens ? _postProcessor.Apply(ids.ToArray()) : ids.ToArray();
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

    public string Decode(ReadOnlySpan<int> ids) => Decode(ids, skipSpecialTokens: false);

    /// <summary>Decodes ids; with skipSpecialTokens, special added tokens are left out of the text.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
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
                if (!(skipSpecialTokens && added.Special)) text.Append(added.Content);
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
