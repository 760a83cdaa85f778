using System.Diagnostics;
using System.Text.Json;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// Tokens per second of the sampler on the ~10M-parameter bench model, one thread: KV cache with
/// inverse-CDF sampling (ours), KV cache with torch.multinomial, and no KV cache. Also writes the
/// checkpoint and prompts so benchmarks/reference/sample_bench.py runs the same workload, and
/// measures the single-thread matmul peak that achieved GFLOP/s are set against.
/// </summary>
public static class SamplerBenchmark
{
    public static int Run(string[] argv)
    {
        var args = new Args(argv);
        string dir = args.Get("out", Path.Combine(Path.GetTempPath(), "rollout-sampler-bench"));
        int batch = args.Int("batch", 64), promptLength = args.Int("prompt-length", 32), newTokens = args.Int("new-tokens", 64);
        int repeats = args.Int("repeats", 3), threads = args.Int("threads", 1);
        var variants = args.Get("variants", "kv_cdf,kv_multinomial,nocache_cdf").Split(',');
        torch.set_num_threads(threads);
        // With ROLLOUT_MKL_VENDOR_CHECK=keep oneMKL runs as libtorch ships it (generic kernels on AMD): reported under its own names.
        string mkl = MklCpuDispatch.Ensure();
        string suffix = Environment.GetEnvironmentVariable("ROLLOUT_MKL_VENDOR_CHECK") == "keep" ? "_mkl_as_shipped" : "";
        Console.Error.WriteLine($"oneMKL vendor check: {mkl}");

        Directory.CreateDirectory(dir);
        // A published shape (e.g. --preset qwen2.5-0.5b) is saved in its dtype (--dtype bfloat16) and sampled in fp32 on
        // both sides (the reference reads every tensor as float32); --sample-dtype bfloat16 samples ours in bf16 as well.
        var config = ModelPresets.Get(args.Get("preset", "bench-10m"), 12288);
        var tokenizer = SyntheticBpe.Create(config.VocabSize, Path.Combine(dir, "tokenizer.json"));
        using var model = new CausalLm(config);
        model.InitializeWeights(7);
        var saveAs = args.Get("dtype", "float32") == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32;
        model.to(saveAs);
        Checkpoint.Save(dir, model, tokenizer);
        model.to(args.Get("sample-dtype", "float32") == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32);
        var prompts = Enumerable.Range(0, batch)
            .Select(r => Enumerable.Range(0, promptLength).Select(j => (r * 131 + j * 17 + 7) % (config.VocabSize - 1)).ToArray()).ToList();
        File.WriteAllText(Path.Combine(dir, "prompts.json"), JsonSerializer.Serialize(prompts));

        double flops = Flops(config, batch, promptLength, newTokens);
        Report("matmul_peak" + suffix, 0, MatmulPeak(), 0);
        foreach (var (name, sampler) in new[]
                 {
                     ("kv_cdf", new Sampler(model, tokenizer)),
                     ("kv_multinomial", new Sampler(model, tokenizer) { Method = SamplingMethod.Multinomial }),
                     ("nocache_cdf", new Sampler(model, tokenizer) { UseKvCache = false }),
                 }.Where(v => variants.Contains(v.Item1)))
        {
            // No stop tokens: every row makes exactly newTokens tokens, the same work as the reference.
            var p = new SamplingParams { MaxNewTokens = newTokens, Temperature = 1f, Seed = 1 };
            sampler.Generate(prompts.Take(4).ToList(), p with { MaxNewTokens = 4 }); // warm-up
            double best = double.MaxValue;
            for (int r = 0; r < (name.Contains("nocache") ? 1 : repeats); r++)
            {
                var clock = Stopwatch.StartNew();
                var result = sampler.Generate(prompts, p with { Seed = r });
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
                if (result.Sum(c => c.TokenIds.Length) != batch * newTokens) throw new InvalidOperationException("rows stopped early");
            }
            Report("ours_" + name + suffix, batch * newTokens / best, flops / best / 1e9, best);
        }
        return 0;
    }

    static void Report(string name, double tokensPerSecond, double gflops, double seconds) =>
        Console.WriteLine(JsonSerializer.Serialize(new { impl = name, tokens_per_s = Math.Round(tokensPerSecond, 1), gflops = Math.Round(gflops, 2), seconds = Math.Round(seconds, 3) }));

    /// <summary>Best of five 1024x1024 float32 matrix products, GFLOP/s.</summary>
    static double MatmulPeak()
    {
        using var scope = NewDisposeScope();
        var a = randn(1024, 1024);
        var b = randn(1024, 1024);
        mm(a, b);
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            mm(a, b);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * 1024 * 1024 * 1024 / best / 1e9;
    }

    /// <summary>Multiply-adds of the prefill and the decode steps: linear layers and the LM head, plus attention scores and values.</summary>
    public static double Flops(ModelConfig c, int batch, int promptLength, int newTokens)
    {
        double q = c.NumAttentionHeads * c.HeadDim, kv = c.KeyValueHeads * c.HeadDim, h = c.HiddenSize;
        double linear = c.NumHiddenLayers * (h * q * 2 + h * kv * 2 + 3 * h * c.IntermediateSize) + h * c.VocabSize;
        double Attention(double context) => c.NumHiddenLayers * 4 * q * context;
        double total = 0;
        for (int t = 1; t <= promptLength + newTokens - 1; t++)
            total += 2 * (t <= promptLength ? linear - h * c.VocabSize + (t == promptLength ? h * c.VocabSize : 0) : linear) + Attention(t);
        return total * batch;
    }
}
