namespace RolloutCluster.Abstractions;

/// <summary>
/// A policy replica on one device of one silo (keyed "silo/device"): samples groups with a requested
/// weights version, loaded from the silo's weight cache, and has them scored by a local verifier.
/// </summary>
public interface IGeneratorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Samples and scores G completions for each problem of the request. Allowed 30 minutes instead
    /// of Orleans' 30 seconds: a slice of a real model's rollouts on a CPU takes minutes (a 0.5B model's
    /// first call also fetches its weights), and a timed-out call was retried while the first still ran,
    /// doubling the work and the memory; a dead silo is found by membership, not by this timeout.
    /// </summary>
    [Alias("generate")]
    [ResponseTimeout("00:30:00")]
    Task<GenerateResult> GenerateAsync(GenerateRequest request, CancellationToken cancellation = default);
}

/// <summary>Scores completions with rule-based (or sandboxed, or external) rewards. Stateless: one per core where called.</summary>
public interface IVerifierGrain : IGrainWithIntegerKey
{
    /// <summary>Scores each item with the requested rewards.</summary>
    [Alias("score")]
    Task<IReadOnlyList<ScoreWire>> ScoreAsync(ScoreRequest request, CancellationToken cancellation = default);
}

/// <summary>Where generator grains are (key 0): each silo registers its own at start-up.</summary>
public interface IGeneratorDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a silo's generators (replacing any it registered before).</summary>
    [Alias("register")]
    Task RegisterAsync(string silo, IReadOnlyList<string> generators);

    /// <summary>Every registered generator with its silo.</summary>
    [Alias("generators")]
    Task<IReadOnlyList<(string Silo, string Generator)>> GetAsync();
}
