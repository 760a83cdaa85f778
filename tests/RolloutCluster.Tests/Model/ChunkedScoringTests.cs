using RolloutCluster.Model.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

/// <summary>
/// The learner's chunked log-probs (<see cref="TokenLogProbs"/>: logits recomputed per chunk in the
/// backward pass) against plain autograd through the whole (B, T, V) log_softmax: values, entropies
/// and every parameter's gradient.
/// </summary>
public sealed class ChunkedScoringTests
{
    static readonly int[][] Prompts = [[5, 9, 12], [7], [3, 4, 5, 6, 8]];
    static readonly int[][] Completions = [[20, 21, 22, 23], [30, 31], []];

    /// <summary>The reference: every position's logits, log_softmax over the (limited) vocabulary, gathered; rows scored one at a time (no padding).</summary>
    static (Tensor LogProbs, Tensor Entropy) Reference(RolloutCluster.Model.Transformer.CausalLm model, float temperature, int vocabLimit)
    {
        var logProbs = Enumerable.Range(0, Prompts.Length * 4).Select(_ => zeros(1)).ToArray();
        var entropy = Enumerable.Range(0, Prompts.Length * 4).Select(_ => zeros(1)).ToArray();
        for (int i = 0; i < Prompts.Length; i++)
        {
            if (Completions[i].Length == 0) continue;
            var sequence = Prompts[i].Concat(Completions[i]).Select(x => (long)x).ToArray();
            var logits = model.Forward(tensor(sequence, [1, sequence.Length]), arange(sequence.Length, dtype: int64).unsqueeze(0))[0]; // (T, V)
            var logP = (logits.narrow(1, 0, vocabLimit) / temperature).log_softmax(-1);                                              // (T, V)
            for (int j = 0; j < Completions[i].Length; j++)
            {
                var row = logP[Prompts[i].Length + j - 1];
                logProbs[i * 4 + j] = row[Completions[i][j]].reshape(1);
                entropy[i * 4 + j] = (-(row.exp() * row).sum()).detach().reshape(1);
            }
        }
        return (cat(logProbs).reshape(Prompts.Length, 4), cat(entropy).reshape(Prompts.Length, 4));
    }

    [Theory]
    [InlineData(0, 1.0f)]  // one chunk
    [InlineData(2, 0.7f)]  // 6 real tokens in chunks of 2, with a temperature
    [InlineData(1, 1.3f)]
    public void Chunked_log_probs_and_their_gradients_match_plain_autograd(int chunkRows, float temperature)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create(seed: 4);
        int vocabLimit = TinyModels.Tokenizer.VocabSize - 3;
        var weights = rand(Prompts.Length, 4, generator: new Generator(7));   // a loss that weighs each token differently

        var (expected, expectedEntropy) = Reference(model, temperature, vocabLimit);
        (expected * weights).sum().backward();
        var expectedGrads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        model.zero_grad();

        using var scores = SequenceScorer.Score(model, Prompts, Completions, temperature, entropy: true, vocabLimit: vocabLimit, chunkRows: chunkRows);
        (scores.LogProbs * weights).sum().backward();

        Assert.Equal([3L, 4L], scores.LogProbs.shape);
        Assert.True(scores.LogProbs.allclose(expected, rtol: 0, atol: 2e-6), "log-probs differ");
        Assert.True(scores.Entropy!.allclose(expectedEntropy, rtol: 0, atol: 2e-6), "entropies differ");
        Assert.Equal(0f, scores.LogProbs[2].abs().sum().item<float>());       // the empty completion scores nothing
        foreach (var (name, p) in model.named_parameters())
        {
            var gap = (p.grad! - expectedGrads[name]).abs().max().item<float>();
            var size = expectedGrads[name].abs().max().item<float>();
            Assert.True(gap <= 1e-5 * Math.Max(1, size), $"{name}: gradient differs by {gap} (largest {size})");
        }
    }

    [Fact]
    public void Chunks_are_sized_by_bytes_of_logits_not_rows()
    {
        // 151,936 float32 logits per row (Qwen's vocabulary): 64 MiB holds 110 rows.
        var hidden = zeros(300, 8);
        var weight = zeros(151_936, 8);
        var targets = zeros(300, dtype: int64);
        var (logProbs, entropy) = TokenLogProbs.Compute(hidden, weight, targets, 1f);
        Assert.Equal(-Math.Log(151_936), logProbs[0].item<float>(), 4);       // uniform
        Assert.Equal(Math.Log(151_936), entropy[299].item<float>(), 4);
        Assert.Equal(110, TokenLogProbs.ChunkBytes / (151_936 * 4));
    }
}
