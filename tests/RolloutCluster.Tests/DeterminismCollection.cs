namespace RolloutCluster.Tests;

/// <summary>
/// Tests that compare two in-process runs for exact equality. torch's intra-op thread count is
/// process-wide, results depend on it in the last bits (measured: the same job with 1 and 2 threads
/// differs in 34 metrics), and other test classes running jobs set it; so these run alone, after the
/// parallel phase, instead of sharing the process's torch settings with whatever runs beside them.
/// </summary>
[CollectionDefinition("determinism", DisableParallelization = true)]
public sealed class DeterminismCollection;
