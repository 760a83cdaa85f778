using RolloutCluster.Model.Sampling;
using RolloutCluster.Model.Scoring;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

public sealed class SamplerTests
{
    static readonly string[] Texts = ["Compute: 37 + 485", "Hi", "<think>a longer prompt with ünïcödé 🙂</think>"];

    static List<int[]> Prompts() => Texts.Select(t => TinyModels.Tokenizer.Encode(t)).ToList();

    [Theory]
    [InlineData(2)] // grouped-query attention: the decode path folds query heads
    [InlineData(4)] // plain multi-head attention
    public void Kv_cached_logits_match_a_full_forward_pass_at_every_position(int kvHeads)
    {
        using var model = TinyModels.Create(seed: 3, kvHeads: kvHeads);
        var prompts = Prompts();
        var captured = prompts.Select(_ => new List<float[]>()).ToArray();
        var sampler = new Sampler(model, TinyModels.Tokenizer);
        var completions = sampler.Generate(prompts, new SamplingParams { MaxNewTokens = 24, Seed = 5 }, observe: (step, rows, logits) =>
        {
            for (int b = 0; b < rows.Count; b++) captured[rows[b]].Add(logits[b].data<float>().ToArray());
        });

        // Reference: each row alone, no cache, the whole sequence at once. Tolerance: 1e-4 absolute in fp32.
        double worst = 0;
        using var noGrad = no_grad();
        for (int i = 0; i < prompts.Count; i++)
        {
            var sequence = prompts[i].Concat(completions[i].TokenIds).Select(x => (long)x).ToArray();
            using var scope = NewDisposeScope();
            var ids = tensor(sequence, [1, sequence.Length]);
            var full = model.Forward(ids, arange(sequence.Length, dtype: int64).unsqueeze(0)); // (1, T, V)
            Assert.Equal(completions[i].TokenIds.Length, captured[i].Count);
            for (int s = 0; s < captured[i].Count; s++)
            {
                var expected = full[0, prompts[i].Length - 1 + s].narrow(0, 0, TinyModels.Tokenizer.VocabSize).data<float>().ToArray();
                worst = Math.Max(worst, expected.Zip(captured[i][s], (a, b) => Math.Abs(a - b)).Max());
            }
        }
        Assert.True(worst < 1e-4, $"max |logit diff| {worst:E2} >= 1e-4");
    }

    [Fact]
    public void Sampled_log_probs_equal_teacher_forced_log_probs()
    {
        using var model = TinyModels.Create(seed: 4);
        var prompts = Prompts();
        foreach (var temperature in new[] { 1f, 0.7f })
        {
            var completions = new Sampler(model, TinyModels.Tokenizer).Generate(prompts,
                new SamplingParams { MaxNewTokens = 32, Temperature = temperature, Seed = 9 });
            using var noGrad = no_grad();
            using var scores = SequenceScorer.Score(model, prompts, completions.Select(c => c.TokenIds).ToList(), temperature, entropy: true, vocabLimit: TinyModels.Tokenizer.VocabSize);
            double worst = 0;
            for (int i = 0; i < prompts.Count; i++)
            {
                var teacher = scores.LogProbs[i].data<float>().ToArray();
                for (int j = 0; j < completions[i].LogProbs.Length; j++)
                    worst = Math.Max(worst, Math.Abs(teacher[j] - completions[i].LogProbs[j]));
            }
            Assert.True(worst < 1e-4, $"T={temperature}: max |log-prob diff| {worst:E2} >= 1e-4");
            Assert.True(scores.Entropy!.min().item<float>() >= 0f);
        }
    }

    [Fact]
    public void A_mixed_length_batch_gives_each_prompt_what_it_gets_alone()
    {
        using var model = TinyModels.Create(seed: 5);
        var prompts = Prompts();
        var p = new SamplingParams { MaxNewTokens = 20, Temperature = 1f, TopK = 50, TopP = 0.95f };
        long[] seeds = [11, 22, 33];
        var sampler = new Sampler(model, TinyModels.Tokenizer);
        var together = sampler.Generate(prompts, p, seeds);
        for (int i = 0; i < prompts.Count; i++)
        {
            var alone = sampler.Generate([prompts[i]], p, [seeds[i]])[0];
            Assert.Equal(alone.TokenIds, together[i].TokenIds);
            Assert.Equal(alone.Text, together[i].Text);
            for (int j = 0; j < alone.LogProbs.Length; j++)
                Assert.True(Math.Abs(alone.LogProbs[j] - together[i].LogProbs[j]) < 1e-4, $"row {i} token {j}");
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_completions_and_another_seed_does_not()
    {
        using var model = TinyModels.Create(seed: 6);
        var sampler = new Sampler(model, TinyModels.Tokenizer);
        var prompts = Prompts();
        var a = sampler.Generate(prompts, new SamplingParams { MaxNewTokens = 24, Seed = 1 });
        var b = sampler.Generate(prompts, new SamplingParams { MaxNewTokens = 24, Seed = 1 });
        var c = sampler.Generate(prompts, new SamplingParams { MaxNewTokens = 24, Seed = 2 });
        Assert.Equal(a.Select(x => x.Text), b.Select(x => x.Text));
        Assert.NotEqual(a.Select(x => x.Text), c.Select(x => x.Text));
    }

    [Fact]
    public void Top_k_of_one_and_a_tiny_top_p_are_greedy()
    {
        using var model = TinyModels.Create(seed: 7);
        var sampler = new Sampler(model, TinyModels.Tokenizer);
        var prompts = Prompts();
        var greedy = sampler.Generate(prompts, new SamplingParams { MaxNewTokens = 16, Temperature = 0 });
        var topK = sampler.Generate(prompts, new SamplingParams { MaxNewTokens = 16, TopK = 1, Seed = 3 });
        var topP = sampler.Generate(prompts, new SamplingParams { MaxNewTokens = 16, TopP = 1e-6f, Seed = 4 });
        Assert.Equal(greedy.Select(x => x.TokenIds), topK.Select(x => x.TokenIds));
        Assert.Equal(greedy.Select(x => x.TokenIds), topP.Select(x => x.TokenIds));
    }

    [Fact]
    public void Top_k_never_samples_outside_the_k_most_likely_tokens()
    {
        using var model = TinyModels.Create(seed: 8);
        var allowed = new List<HashSet<long>>();
        var chosen = new List<int>();
        var completion = new Sampler(model, TinyModels.Tokenizer).Generate([TinyModels.Tokenizer.Encode("abc")],
            new SamplingParams { MaxNewTokens = 40, TopK = 3, Temperature = 2f, Seed = 5 },
            observe: (_, _, logits) => allowed.Add(logits[0].topk(3).indexes.data<long>().ToHashSet()))[0];
        for (int s = 0; s < completion.TokenIds.Length; s++) Assert.Contains((long)completion.TokenIds[s], allowed[s]);
    }

    [Fact]
    public void Stop_tokens_and_stop_strings_end_a_completion()
    {
        using var model = TinyModels.Create(seed: 9);
        var sampler = new Sampler(model, TinyModels.Tokenizer);
        var prompt = TinyModels.Tokenizer.Encode("xyz");
        var free = sampler.Generate([prompt], new SamplingParams { MaxNewTokens = 30, Temperature = 0 })[0];
        Assert.Equal(FinishReason.Length, free.Finish);
        Assert.Equal(30, free.TokenIds.Length);

        // Stop on the greedy path's fifth token: the completion keeps it in its ids, not in its text.
        int stop = free.TokenIds[4];
        int first = Array.IndexOf(free.TokenIds, stop);
        var stopped = sampler.Generate([prompt], new SamplingParams { MaxNewTokens = 30, Temperature = 0, StopTokenIds = [stop] })[0];
        Assert.Equal(FinishReason.Stop, stopped.Finish);
        Assert.Equal(free.TokenIds.Take(first + 1), stopped.TokenIds);
        Assert.Equal(TinyModels.Tokenizer.Decode(free.TokenIds.AsSpan(0, first)), stopped.Text);

        // A stop string spanning tokens 6-8 of the greedy text: the text ends right after it.
        var stopString = TinyModels.Tokenizer.Decode(free.TokenIds.AsSpan(5, 3));
        var byString = sampler.Generate([prompt], new SamplingParams { MaxNewTokens = 30, Temperature = 0, StopStrings = [stopString] })[0];
        Assert.Equal(FinishReason.Stop, byString.Finish);
        Assert.EndsWith(stopString, byString.Text);
        Assert.True(byString.TokenIds.Length <= 8);
    }

    [Fact]
    public void Without_a_kv_cache_sampling_gives_the_same_tokens()
    {
        using var model = TinyModels.Create(seed: 10);
        var prompts = Prompts();
        var p = new SamplingParams { MaxNewTokens = 16, Seed = 12 };
        var cached = new Sampler(model, TinyModels.Tokenizer).Generate(prompts, p);
        var uncached = new Sampler(model, TinyModels.Tokenizer) { UseKvCache = false }.Generate(prompts, p);
        Assert.Equal(cached.Select(c => c.TokenIds), uncached.Select(c => c.TokenIds));
    }

    [Fact]
    public void Bad_sampling_parameters_are_refused_with_the_field_named()
    {
        using var model = TinyModels.Create();
        var sampler = new Sampler(model, TinyModels.Tokenizer);
        var e = Assert.Throws<ArgumentException>(() => sampler.Generate([[1, 2]], new SamplingParams { TopP = 0 }));
        Assert.Contains("top_p", e.Message);
        e = Assert.Throws<ArgumentException>(() => sampler.Generate([[1, 2]], new SamplingParams { MaxNewTokens = 1000 }));
        Assert.Contains("max_position_embeddings", e.Message);
    }
}
