using System.Diagnostics;
using System.Text.Json;
using RolloutCluster.Algorithms;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// The GRPO learner step's overhead: GrpoLearner.Step (teacher-forced pass with entropy, clipped
/// loss, importance weights, metrics, gradient clipping, AdamW) against the bare forward + backward
/// of the same batch (log-softmax cross-entropy of the completion tokens) plus the same AdamW step,
/// alternating, on the example job's model and a batch shaped like its GRPO batches.
/// </summary>
public static class LearnerStepBenchmark
{
    public static int Run(string[] argv)
    {
        var args = new Args(argv);
        int rounds = args.Int("rounds", 10), threads = args.Int("threads", 1), prompts = args.Int("prompts", 16), group = args.Int("group", 8);
        torch.set_num_threads(threads);
        Console.Error.WriteLine($"oneMKL vendor check: {MklCpuDispatch.Ensure()}");
        var tokenizer = new ByteTokenizer();
        using var model = new CausalLm(ModelPresets.Get(args.Get("preset", "tiny"), tokenizer.VocabSize));
        model.InitializeWeights(3);
        var task = new ArithmeticTask(new ArithmeticSettings(), seed: 1, testSize: 10);
        var random = new Random(5);
        var batch = task.Train().Take(prompts).SelectMany(p => Enumerable.Range(0, group).Select(_ =>
        {
            var completion = tokenizer.Encode(PromptTemplate.Completion(p.Reasoning!, p.Answer)).Append(tokenizer.EosId).ToArray();
            return new TrainingSample(tokenizer.Encode(PromptTemplate.R1Compact.Render(p.Question)), completion,
                completion.Select(_ => -0.05f).ToArray(), random.NextDouble() - 0.5);
        })).ToList();
        var config = new OptimizerConfig { LearningRate = 1e-6 };
        using var learnerOptimizer = new TrainingOptimizer(model.parameters(), config);
        var learner = new GrpoLearner(model, null, learnerOptimizer, new GrpoLearnerConfig { MicroBatchSize = batch.Count }, tokenizer.VocabSize, tokenizer.EosId);
        using var bareOptimizer = new TrainingOptimizer(model.parameters(), config);

        var learnerTimes = new List<double>();
        var bareTimes = new List<double>();
        for (int r = -1; r < rounds; r++) // round -1 warms up both paths; the order alternates so neither always runs warm
        {
            for (int k = 0; k < 2; k++)
            {
                bool learnerTurn = (k == 0) == (r % 2 == 0);
                var clock = Stopwatch.StartNew();
                if (learnerTurn) learner.Step(batch);
                else Bare(model, bareOptimizer, batch, tokenizer.VocabSize);
                if (r >= 0) (learnerTurn ? learnerTimes : bareTimes).Add(clock.Elapsed.TotalSeconds);
            }
        }
        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "learner_step",
            sequences = batch.Count,
            tokens = batch.Sum(s => s.Prompt.Length + s.Completion.Length),
            learner_s = Math.Round(Median(learnerTimes), 4),
            bare_forward_backward_s = Math.Round(Median(bareTimes), 4),
            ratio = Math.Round(Median(learnerTimes.Zip(bareTimes, (a, b) => a / b).ToList()), 3),
        }));
        return 0;
    }

    /// <summary>
    /// The floor: one forward over the same left-padded batch, log-softmax at the completion positions
    /// only (the cheapest correct cross-entropy), advantage-weighted sum, backward, the same AdamW step.
    /// </summary>
    internal static void Bare(CausalLm model, TrainingOptimizer optimizer, List<TrainingSample> batch, int vocabLimit)
    {
        using var scope = NewDisposeScope();
        model.train();
        optimizer.ZeroGrad();
        int total = batch.Max(s => s.Prompt.Length + s.Completion.Length), longest = batch.Max(s => s.Completion.Length);
        var ids = new long[batch.Count * total];
        var valid = new bool[batch.Count * total];
        var slots = new long[batch.Count * longest];
        var targets = new long[batch.Count * longest];
        var weights = new float[batch.Count * longest];
        for (int i = 0; i < batch.Count; i++)
        {
            var sequence = batch[i].Prompt.Concat(batch[i].Completion).ToArray();
            int offset = total - sequence.Length;
            for (int j = 0; j < sequence.Length; j++)
            {
                ids[i * total + offset + j] = sequence[j];
                valid[i * total + offset + j] = true;
            }
            for (int j = 0; j < batch[i].Completion.Length; j++)
            {
                slots[i * longest + j] = offset + batch[i].Prompt.Length + j - 1;
                targets[i * longest + j] = batch[i].Completion[j];
                weights[i * longest + j] = (float)batch[i].Advantage;
            }
        }
        var validT = tensor(valid, [batch.Count, total]);
        var logits = model.Forward(tensor(ids, [batch.Count, total]), AttentionMask.Positions(validT), AttentionMask.Build(validT, 0, total)); // (B, T, V)
        var picked = logits.gather(1, tensor(slots, [batch.Count, longest]).unsqueeze(2).expand(batch.Count, longest, logits.shape[2])); // (B, L, V)
        var logProbs = picked.narrow(2, 0, vocabLimit).log_softmax(-1).gather(2, tensor(targets, [batch.Count, longest]).unsqueeze(2)).squeeze(2);
        (-(logProbs * tensor(weights, [batch.Count, longest])).sum() / weights.Count(w => w != 0)).backward();
        optimizer.Step();
    }
}
