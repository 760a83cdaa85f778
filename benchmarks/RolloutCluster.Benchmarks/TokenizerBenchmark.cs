using System.Diagnostics;
using System.Text.Json;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Tests.Oracle;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// Encoding throughput on the oracle tests' corpus: writes the strings (repeated --repeat times) for
/// the JavaScript side to encode, then encodes them here once, in a fresh process, after one warm-up
/// string, as the JavaScript side does; prints {"impl":"ours","ms":…,"tokens":…}.
/// </summary>
public static class TokenizerBenchmark
{
    public static int Run(string[] argv)
    {
        var args = new Args(argv);
        var tokenizer = TokenizerJson.Load(Path.Combine(args.Get("model", ""), "tokenizer.json"));
        var corpus = TokenizerCorpus.Generate(args.Int("count", 5200), 12, tokenizer.AddedTokens.Take(40).ToList());
        var strings = Enumerable.Repeat(corpus, args.Int("repeat", 4)).SelectMany(x => x).ToList();
        File.WriteAllText(args.Get("strings", "strings.json"), JsonSerializer.Serialize(strings));
        tokenizer.Encode("warm up");
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        foreach (var s in strings) tokens += tokenizer.Encode(s).Length;
        Console.WriteLine(JsonSerializer.Serialize(new { impl = "ours", ms = clock.Elapsed.TotalMilliseconds, tokens, strings = strings.Count }));
        return 0;
    }
}
