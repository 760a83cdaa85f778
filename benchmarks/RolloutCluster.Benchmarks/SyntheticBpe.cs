using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// A byte-level BPE tokenizer of a chosen size built from pairs of printable ASCII characters, so a
/// throughput benchmark samples over a realistic vocabulary (every id decodes) without training one.
/// </summary>
public static class SyntheticBpe
{
    public static ITokenizer Create(int vocabSize, string path)
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevelAlphabet.Char((byte)b).ToString(), b => b);
        var merges = new List<(string, string)>();
        var printable = Enumerable.Range('!', '~' - '!' + 1).Select(c => ((char)c).ToString()).ToArray();
        int addedCount = 1;
        // Two-character tokens first, then three-character ones built on them.
        foreach (var pair in printable.SelectMany(a => printable.Select(b => (a, b)))
                     .Concat(printable.SelectMany(a => printable.Select(b => (a + b, b)))))
        {
            if (vocab.Count >= vocabSize - addedCount) break;
            if (vocab.ContainsKey(pair.Item1 + pair.Item2)) continue;
            merges.Add(pair);
            vocab[pair.Item1 + pair.Item2] = vocab.Count;
        }
        File.WriteAllText(path, TokenizerJson.Create(vocab, merges, [new AddedToken(vocab.Count, "<|endoftext|>", true)]));
        return TokenizerJson.Load(path);
    }
}
