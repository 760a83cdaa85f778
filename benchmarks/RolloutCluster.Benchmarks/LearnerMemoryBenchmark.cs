using System.Diagnostics;
using System.Text.Json;
using RolloutCluster.Algorithms;
using RolloutCluster.Model;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Training.Runtime;
using static TorchSharp.torch;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// Peak memory of one GRPO learner step at a real vocabulary: <c>--mode chunked</c> is GrpoLearner
/// (log-probs in row chunks, <see cref="Model.Scoring.TokenLogProbs"/>), <c>--mode full</c> the plain
/// formulation over (B, T, V) logits (<see cref="LearnerStepBenchmark"/>'s floor). Run each in its own
/// process (learner-memory.sh): the peak resident set is per process.
/// </summary>
public static class LearnerMemoryBenchmark
{
    public static int Run(string[] argv)
    {
        var args = new Args(argv);
        string mode = args.Get("mode", "chunked"), preset = args.Get("preset", "qwen2.5-0.5b");
        int rows = args.Int("rows", 8), promptLength = args.Int("prompt", 64), completionLength = args.Int("completion", 192);
        set_num_threads(args.Int("threads", 2));
        var config = ModelPresets.Get(preset, 0);
        if (args.Int("layers", 0) is > 0 and var layers) config = config with { NumHiddenLayers = layers };
        using var model = new CausalLm(config);
        model.InitializeWeights(3);
        model.ActivationCheckpointing = args.Get("checkpointing", "no") == "yes";
        var random = new Random(5);
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => random.Next(config.VocabSize)).ToArray();
        var batch = Enumerable.Range(0, rows).Select(_ =>
        {
            var completion = Tokens(completionLength);
            return new TrainingSample(Tokens(promptLength), completion, completion.Select(_ => -5f).ToArray(), random.NextDouble() - 0.5);
        }).ToList();
        using var optimizer = new TrainingOptimizer(model.parameters(), new OptimizerConfig { LearningRate = 1e-6 });
        double before = MemoryGuard.PeakResidentGb();
        var clock = Stopwatch.StartNew();
        if (mode == "chunked")
            new GrpoLearner(model, null, optimizer, new GrpoLearnerConfig { MicroBatchSize = rows }, config.VocabSize, 0).Step(batch);
        else
            LearnerStepBenchmark.Bare(model, optimizer, batch, config.VocabSize);
        long parameters = model.parameters().Sum(p => p.NumberOfElements);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "learner_memory",
            mode,
            activation_checkpointing = model.ActivationCheckpointing,
            preset,
            layers = config.NumHiddenLayers,
            parameters,
            tokens = rows * (promptLength + completionLength),
            // fp32 weights, gradients and AdamW's two moments: what any fp32 learner must hold.
            state_gb = Math.Round(parameters * 16.0 / (1L << 30), 3),
            peak_before_step_gb = Math.Round(before, 3),
            peak_rss_gb = Math.Round(MemoryGuard.PeakResidentGb(), 3),
            step_s = Math.Round(clock.Elapsed.TotalSeconds, 2),
        }));
        return 0;
    }
}
