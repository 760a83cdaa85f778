using RolloutCluster.Model.Reward;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Rewards;
using static TorchSharp.torch;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// How a reward model reads samples, the same in training, in evaluation and in the <c>model</c>
/// reward: the prompt's ids and the completion's text (without the end-of-sequence token, so the
/// scalar head reads the last token of the text itself), or for scope "answer" the text after the
/// last &lt;/think&gt; (<see cref="ScopedReward.AnswerPart"/>).
/// </summary>
public static class RewardModelScoring
{
    /// <summary>What a reward model of this scope reads of a completion's text, as token ids.</summary>
    public static int[] Read(string scope, string completion, ITokenizer tokenizer) =>
        tokenizer.Encode(scope == "answer" ? ScopedReward.AnswerPart(completion) : completion);

    /// <summary>Logits of (prompt, completion) rows, without gradients, in chunks of batchSize.</summary>
    public static List<double> Logits(RewardModel model, IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int batchSize, int padId)
    {
        model.eval();
        using var noGrad = no_grad();
        var scores = new List<double>(prompts.Count);
        for (int from = 0; from < prompts.Count; from += batchSize)
        {
            int count = Math.Min(batchSize, prompts.Count - from);
            using var logits = model.Score(prompts.Skip(from).Take(count).ToList(), completions.Skip(from).Take(count).ToList(), padId);
            scores.AddRange(logits.cpu().data<float>().Select(x => (double)x));
        }
        return scores;
    }

    /// <summary>A reward model's logits for every sample of each group, for best-of-n and weighted voting.</summary>
    public static IReadOnlyList<double[]> ScoreGroups(RewardModel model, IReadOnlyList<RolloutGroup> groups, ITokenizer tokenizer, int batchSize = 64)
    {
        var prompts = groups.SelectMany(g => g.Completions.Select(_ => g.Prompt)).ToList();
        var completions = groups.SelectMany(g => g.Completions.Select(c => Read(model.Scope, c.Text, tokenizer))).ToList();
        var flat = Logits(model, prompts, completions, batchSize, tokenizer.EosId);
        var result = new List<double[]>(groups.Count);
        int at = 0;
        foreach (var g in groups)
        {
            result.Add([.. flat.Skip(at).Take(g.Completions.Count)]);
            at += g.Completions.Count;
        }
        return result;
    }
}
