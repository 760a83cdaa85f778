using RolloutCluster.Rewards;
using RolloutCluster.Algorithms;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Stages;

public sealed partial class GrpoStage
{
    /// <summary>A stage's sampling section (GRPO, rejection sampling): temperature, top_p, top_k, max_new_tokens, max_batch_tokens.</summary>
    public static SamplingSpec ParseSampling(SpecMap sampling)
    {
        var spec = new SamplingSpec((float)sampling.Double("temperature", 1.0, min: 0, exclusiveMin: true), (float)sampling.Double("top_p", 1.0, 0, 1, exclusiveMin: true),
            sampling.Int("top_k", 0, min: 0), sampling.Int("max_new_tokens", min: 1, max: 100_000), sampling.Int("max_batch_tokens", 0, min: 0));
        sampling.Done();
        return spec;
    }

    /// <summary>A stage's own rewards (R1's last RL stage scores differently from the first), checked like the job's; null: the job's.</summary>
    static IReadOnlyList<RewardSpec>? ParseStageRewards(SpecMap s, JobParseContext job)
    {
        if (!s.Has("rewards")) return null;
        var rewards = JobFile.ParseRewards(s, job, stageRewards: true);
        if (job.TrainProblems is { } problems)
        {
            var nodes = s.List("rewards");
            for (int i = 0; i < rewards.Count; i++)
                if (JobFile.Unfed(rewards[i].Name, problems, job.Task.Dataset, job.Task) is { } fault) throw s.Error(nodes[i].Node, nodes[i].Path, fault);
        }
        return rewards;
    }

    public StageSpec Parse(SpecMap s, string name, JobParseContext job)
    {
        var steps = s.Int("steps", min: 1);
        var samplingSpec = ParseSampling(s.Map("sampling"));
        var loss = s.OptionalMap("loss");
        var lossConfig = new PolicyLossConfig(
            loss?.Double("clip_low", 0.2, 0, 1) ?? 0.2,
            loss?.Double("clip_high", 0.28, 0, 10) ?? 0.28,
            loss?.Double("dual_clip", 3.0, 1, exclusiveMin: true) ?? 3.0,
            loss?.Double("is_cap", 2.0, 0, exclusiveMin: true) ?? 2.0,
            loss?.String("aggregation", LossAggregation.TokenMean, [.. LossAggregation.Modes]) ?? LossAggregation.TokenMean,
            samplingSpec.MaxNewTokens,
            loss?.String("ratio", PolicyRatios.Token, [.. PolicyRatios.Registry.Names]) ?? PolicyRatios.Token,
            loss?.String("importance", ImportanceWeights.Truncated, [.. ImportanceWeights.Registry.Names]) ?? ImportanceWeights.Truncated);
        loss?.Done();
        var kl = s.OptionalMap("kl");
        double klCoefficient = kl?.Double("coef", 0, min: 0) ?? 0;
        string klEstimator = kl?.String("estimator", "k3", [.. KlEstimators.Registry.Names]) ?? "k3";
        kl?.Done();
        var overlong = s.OptionalMap("overlong");
        var overlongSpec = new OverlongSpec(overlong?.String("mode", "none", "none", "mask", "penalty") ?? "none", overlong?.Int("buffer", 16, min: 1) ?? 16);
        if (overlong is not null && overlongSpec.Mode == "penalty" && overlongSpec.Buffer > samplingSpec.MaxNewTokens)
            throw overlong.ErrorAt("buffer", $"expected at most sampling.max_new_tokens ({samplingSpec.MaxNewTokens}), found {overlongSpec.Buffer}");
        overlong?.Done();
        int prompts = s.Int("prompts_per_step", min: 1), group = s.Int("group_size", min: 2, max: 65_536);
        var spec = new GrpoStageSpec(name, steps, JobFile.ParseOptimizer(s.Map("optimizer"), steps), s.Int("micro_batch_size", 64, min: 1),
            s.OptionalDouble("time_limit_minutes", 0, exclusiveMin: true), prompts, group, samplingSpec,
            s.String("advantage", "grpo", [.. Advantages.Registry.Names]), lossConfig, klCoefficient, klEstimator,
            s.Bool("dynamic_sampling", false), s.Int("max_sampling_rounds", 3, min: 1, max: 100), s.Double("oversample", 1.0, 1.0, 16.0), overlongSpec,
            s.Int("max_staleness", 0, min: 0, max: 1000), s.Bool("importance_correction", true), s.Int("max_tokens_per_micro_batch", 0, min: 0),
            s.Int("ppo_epochs", 1, min: 1, max: 100), s.Int("mini_batches", 1, min: 1, max: prompts * group), ParseStageRewards(s, job), EffortLevels.Parse(s));
        // Everything one step samples is held until the learner has used it (and, ahead of it, up to
        // max_staleness more requests): a size no machine can hold is refused here, not at run time.
        double requests = (spec.DynamicSampling ? spec.Oversample : 1) * (1 + spec.MaxStaleness);
        job.CheckMemory(s, "prompts_per_step", requests * prompts * (double)group * JobParseContext.BytesPerSequence(job.Task.MaxPromptTokens ?? 256, samplingSpec.MaxNewTokens),
            $"{prompts} prompts x {group} samples of up to {samplingSpec.MaxNewTokens} new tokens");
        return spec;
    }
}
