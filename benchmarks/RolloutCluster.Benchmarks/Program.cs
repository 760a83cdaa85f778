using RolloutCluster.Benchmarks;

// End-to-end benchmark scenarios; each prints one JSON object per measurement on stdout.
return args.FirstOrDefault() switch
{
    "sampler" => SamplerBenchmark.Run(args[1..]),
    "learner-step" => LearnerStepBenchmark.Run(args[1..]),
    "learner-memory" => LearnerMemoryBenchmark.Run(args[1..]),
    "sandbox" => await SandboxBenchmark.RunAsync(args[1..]),
    "orchestration" => await OrchestrationBenchmark.RunAsync(args[1..]),
    "loopback-tcp" => await LoopbackTcpBenchmark.RunAsync(args[1..]),
    "weight-transfer" => await WeightTransferBenchmark.RunAsync(args[1..]),
    "silo" => await InstantSilo.RunAsync(args[1..]),
    "tokenizer" => TokenizerBenchmark.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: RolloutCluster.Benchmarks sampler --out DIR [--batch 64] [--prompt-length 32] [--new-tokens 64] [--repeats 3]\n       RolloutCluster.Benchmarks learner-step [--rounds 10] [--threads 1] [--prompts 16] [--group 8]\n       RolloutCluster.Benchmarks learner-memory [--mode chunked|full] [--checkpointing yes] [--preset qwen2.5-0.5b] [--layers N] [--rows 8] [--prompt 64] [--completion 192]   (for learner-memory.sh)\n       RolloutCluster.Benchmarks sandbox [--humaneval PATH] [--parallel 2] [--rounds 3]\n       RolloutCluster.Benchmarks orchestration [--steps 16] [--prompts 8] [--group 8] [--new-tokens 48] [--rounds 2] [--instant-steps 60]\n       RolloutCluster.Benchmarks loopback-tcp [--megabytes 100] [--receivers 3] [--rounds 5] [--into scratch|fresh]\n       RolloutCluster.Benchmarks weight-transfer [--megabytes 103] [--receivers 3] [--rounds 7] [--fresh yes] [--synthetic-model yes]\n       RolloutCluster.Benchmarks silo --redis HOST:PORT --silo-port P --gateway-port P [--dashboard-port 0] [--runs-directory DIR] [--devices cpu|none]   (instant generators; for broadcast.sh, broadcast-large.sh)\n       RolloutCluster.Benchmarks tokenizer --model DIR --strings OUT.json [--count 5200] [--repeat 4]   (for tokenizers.sh)");
    return 2;
}
