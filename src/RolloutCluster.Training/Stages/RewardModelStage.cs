using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model.Reward;
using RolloutCluster.Model.Sampling;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Answers;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Evaluation;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Training.Stages;

/// <summary>Training an outcome reward model on the policy's verified rollouts.</summary>
/// <param name="Scope">"trace": the model reads the whole completion; "answer": only what follows the reasoning (after the last &lt;/think&gt;).</param>
/// <param name="Objective">"pointwise" (cross-entropy on each label), "pairwise" (Bradley-Terry within each prompt's samples) or "both" (their sum).</param>
public sealed record RewardModelStageSpec(string Name, int Steps, OptimizerConfig Optimizer, int BatchSize, int Prompts, int Samples, int HeldOut,
    SamplingSpec Sampling, string Scope, RewardSpec Correctness, string Objective = "both") : StageSpec(Name, "reward-model", Steps)
{
    /// <summary>Where the stage saves the model: runs/&lt;job&gt;/reward-models/&lt;stage&gt; (checkpoints/ holds the policy's).</summary>
    public static string OutputPath(string runDirectory, string stage) => Path.Combine(runDirectory, "reward-models", stage);
}

/// <summary>
/// An outcome reward model (DeepSeek-R1's neural reward model for general data, here trained on what
/// the verifier can judge): the policy samples k completions of N training prompts and of held-out
/// prompts through the engine; the job's verifier labels each correct or not; a copy of the policy
/// under a scalar head (<see cref="RewardModel"/>) learns the label with binary cross-entropy; its
/// held-out ROC AUC is reported (a "reward-model" row in metrics.jsonl) and the model is saved in
/// Hugging Face's ForSequenceClassification layout. The policy is not changed.
/// </summary>
public sealed class RewardModelStage : IStage
{
    public string Kind => "reward-model";

    public StageSpec Parse(SpecMap s, string name, JobParseContext job)
    {
        var correctness = RejectionSamplingStage.RequireVerifier(s, job, "a reward-model stage learns its verifier's labels");
        if (job.Task.Test is null && !BuiltinDataset.IsBuiltin(job.Task.Dataset))
            throw s.ErrorAt("kind", "a reward-model stage reports its AUC on held-out prompts, but the task has no test set: set task.test (a file or holdout:N)");
        int steps = s.Int("steps", min: 1);
        return new RewardModelStageSpec(name, steps, JobFile.ParseOptimizer(s.Map("optimizer"), steps), s.Int("batch_size", 32, min: 2, max: 1 << 16),
            s.Int("prompts", min: 1, max: 1_000_000), s.Int("samples", min: 1, max: 1024), s.Int("held_out", 200, min: 1, max: 1_000_000),
            GrpoStage.ParseSampling(s.Map("sampling")), s.String("scope", "trace", "trace", "answer"), correctness,
            s.String("objective", "both", "pointwise", "pairwise", "both"));
    }

    public string Describe(StageSpec spec) => spec is RewardModelStageSpec r
        ? $"{r.Samples} samples of each of {r.Prompts} training and {r.HeldOut} held-out prompts labelled by {r.Correctness.Name}; " +
          $"{r.Steps} steps of {r.BatchSize} ({r.Objective}) on the {r.Scope}, lr {r.Optimizer.LearningRate:G3}; AUC on the held-out samples"
        : "";

    public async Task<int> RunAsync(StageSpec stage, StageContext context, ResumePoint? resume, CancellationToken cancellation)
    {
        var spec = (RewardModelStageSpec)stage;
        var policy = context.Policy;
        var problems = context.TrainProblems(spec.Prompts);
        var heldOut = context.Data.Test.Take(spec.HeldOut).ToList();
        long version = await context.Engine.CurrentVersionAsync(policy, cancellation);
        long seed = RowRandom.RowSeed(context.Job.Seed, 6_007 + context.StageIndex);
        context.Observer.Note($"{spec.Name}: sampling {spec.Samples} completions of {problems.Count} training and {heldOut.Count} held-out prompts");
        var train = Examples(spec, policy, await RolloutBatches.RunAsync(context.Engine, problems, spec.Samples, spec.Sampling, seed, version, [spec.Correctness], cancellation));
        var test = Examples(spec, policy, await RolloutBatches.RunAsync(context.Engine, heldOut, spec.Samples, spec.Sampling, seed + 1, version, [spec.Correctness], cancellation));
        int positives = train.Count(e => e.Correct);
        if (positives == 0 || positives == train.Count)
            throw new InvalidOperationException($"{spec.Name}: all {train.Count} training samples are {(positives == 0 ? "wrong" : "right")}; a reward model needs both (more prompts, or a different policy)");

        using var model = RewardModel.FromPolicy(policy.Model, seed);
        model.Scope = spec.Scope;
        model.to(policy.Model.Device);
        using var optimizer = new TrainingOptimizer(model.parameters(), spec.Optimizer);
        // Batches of whole groups (a prompt's samples together), so pairs of one prompt can be compared.
        var order = new Random((int)(seed & int.MaxValue));
        var groups = train.GroupBy(e => e.Group).Select(g => g.ToList()).OrderBy(_ => order.Next()).ToList();
        int next = 0;
        for (int step = 1; step <= spec.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = new List<Example>();
            while (batch.Count < spec.BatchSize) batch.AddRange(groups[next++ % groups.Count]);
            long start = context.Time.GetTimestamp();
            model.train();
            optimizer.ZeroGrad();
            double loss, agree;
            int pairs;
            using (var scope = NewDisposeScope())
            {
                var logits = model.Score(batch.Select(e => e.Prompt).ToList(), batch.Select(e => e.Completion).ToList(), policy.Tokenizer.EosId); // (B)
                var correct = batch.Select(e => e.Correct).ToList();
                var (pairwise, count) = RewardModelLoss.Pairwise(logits, correct, batch.Select(e => e.Group).ToList());
                pairs = count;
                var total = spec.Objective switch
                {
                    "pointwise" => RewardModelLoss.Pointwise(logits, correct),
                    "pairwise" => pairwise ?? logits.sum() * 0,
                    _ => pairwise is null ? RewardModelLoss.Pointwise(logits, correct) : RewardModelLoss.Pointwise(logits, correct) + pairwise,
                };
                total.backward();
                loss = total.item<float>();
                agree = correct.Zip(logits.cpu().data<float>().ToArray()).Count(x => x.First == x.Second > 0) / (double)batch.Count;
            }
            var outcome = optimizer.Step();
            context.StepDone(spec.Name, step, spec.Steps, new Metrics
            {
                ["rm/loss"] = loss, ["rm/accuracy"] = agree, ["rm/pairs"] = pairs, ["actor/grad_norm"] = outcome.GradNorm, ["actor/lr"] = outcome.LearningRate,
                ["timing/step_s"] = context.Time.GetElapsedTime(start).TotalSeconds,
            });
        }
        var scores = RewardModelScoring.Logits(model, [.. test.Select(e => e.Prompt)], [.. test.Select(e => e.Completion)], spec.BatchSize, policy.Tokenizer.EosId);
        var auc = Auc.Compute(scores, test.Select(e => e.Correct).ToList());
        // Within a prompt (what best-of-n relies on): the mean AUC over held-out prompts with right and wrong samples.
        var groupAucs = test.Select((e, i) => (e, i)).GroupBy(x => x.e.Group)
            .Select(g => Auc.Compute(g.Select(x => scores[x.i]).ToList(), g.Select(x => x.e.Correct).ToList())).OfType<double>().ToList();
        var metrics = new Metrics
        {
            ["rm/auc_held_out"] = auc ?? double.NaN,
            ["rm/group_auc_held_out"] = groupAucs.Count == 0 ? double.NaN : groupAucs.Average(), ["rm/groups_with_both_held_out"] = groupAucs.Count,
            ["rm/accuracy_held_out"] = test.Count == 0 ? double.NaN : test.Zip(scores).Count(x => x.First.Correct == x.Second > 0) / (double)test.Count,
            ["rm/held_out_samples"] = test.Count, ["rm/held_out_correct"] = test.Count(e => e.Correct),
            ["rm/train_samples"] = train.Count, ["rm/train_correct"] = positives,
        };
        context.Log.Write("reward-model", spec.Name, spec.Steps, context.ElapsedSeconds, metrics);
        string path = RewardModelStageSpec.OutputPath(context.RunDirectory, spec.Name);
        model.Save(path, policy.Tokenizer);
        context.Observer.Note($"{spec.Name}: held-out AUC {(auc is { } a ? a.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "undefined (one class only)")}, " +
            $"within prompts {metrics["rm/group_auc_held_out"].ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} " +
            $"on {test.Count} samples ({metrics["rm/held_out_correct"]:F0} correct); saved {path}");
        return spec.Steps;
    }

    /// <summary>One labelled example: the prompt's ids, what the model reads of the completion (<see cref="RewardModelScoring.Read"/>), and the verifier's label.</summary>
    sealed record Example(int[] Prompt, int[] Completion, bool Correct, int Group = 0);

    static List<Example> Examples(RewardModelStageSpec spec, Policy policy, IReadOnlyList<RolloutGroup> groups) =>
        [.. groups.SelectMany((g, i) => g.Completions.Select((c, j) => new Example(g.Prompt, RewardModelScoring.Read(spec.Scope, c.Text, policy.Tokenizer),
            g.Scores[j].Values.GetValueOrDefault(spec.Correctness.Name) >= 1, i)))];
}
