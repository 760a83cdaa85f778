namespace RolloutCluster.Algorithms;

/// <summary>
/// One completion as the learner trains on it.
/// </summary>
/// <param name="Prompt">Prompt token ids.</param>
/// <param name="Completion">Sampled token ids (the stop token included when the policy chose it).</param>
/// <param name="BehaviourLogProbs">The sampler's log-probability of each completion token.</param>
/// <param name="Advantage">The completion's advantage (0 for groups without signal).</param>
/// <param name="Masked">True to keep the completion out of the loss (e.g. overlong filtering).</param>
/// <param name="WeightsVersion">The weights version that sampled it.</param>
public sealed record TrainingSample(int[] Prompt, int[] Completion, float[] BehaviourLogProbs, double Advantage, bool Masked = false, long WeightsVersion = 0);
