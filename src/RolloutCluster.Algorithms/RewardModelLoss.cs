using static TorchSharp.torch;

namespace RolloutCluster.Algorithms;

/// <summary>
/// Losses of an outcome reward model over scores s (B) of samples labelled correct or not.
/// Pointwise: binary cross-entropy on the logits. Pairwise: Bradley-Terry within groups (InstructGPT's
/// reward-model loss, with pairs drawn from one prompt's samples): the mean over pairs (i correct,
/// j wrong, same prompt) of −log σ(s_i − s_j). The pointwise loss alone can be met by learning which
/// prompts are easy; the pairwise one only by telling a prompt's right answers from its wrong ones,
/// which is what best-of-n needs.
/// </summary>
public static class RewardModelLoss
{
    /// <summary>scores: (B) logits; returns the mean binary cross-entropy against the labels.</summary>
    public static Tensor Pointwise(Tensor scores, IReadOnlyList<bool> correct)
    {
        var labels = tensor(correct.Select(c => c ? 1f : 0f).ToArray(), device: scores.device);   // (B)
        return nn.functional.binary_cross_entropy_with_logits(scores, labels);
    }

    /// <summary>scores: (B) logits; groups: the prompt of each sample. Returns the Bradley-Terry loss and the number of pairs (the loss is null without pairs).</summary>
    public static (Tensor? Loss, int Pairs) Pairwise(Tensor scores, IReadOnlyList<bool> correct, IReadOnlyList<int> groups)
    {
        var (winners, losers) = (new List<long>(), new List<long>());
        for (int i = 0; i < correct.Count; i++)
            for (int j = 0; j < correct.Count; j++)
                if (correct[i] && !correct[j] && groups[i] == groups[j]) { winners.Add(i); losers.Add(j); }
        if (winners.Count == 0) return (null, 0);
        var margin = scores.index_select(0, tensor(winners.ToArray(), device: scores.device))
                   - scores.index_select(0, tensor(losers.ToArray(), device: scores.device));     // (P)
        return (-nn.functional.logsigmoid(margin).mean(), winners.Count);
    }
}
