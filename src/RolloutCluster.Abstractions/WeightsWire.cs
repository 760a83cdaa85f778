namespace RolloutCluster.Abstractions;

/// <summary>One parameter's place in a packed weights buffer.</summary>
[GenerateSerializer, Immutable, Alias("rollout.packed-tensor")]
public sealed record PackedTensorWire(
    [property: Id(0)] string Name,
    [property: Id(1)] string DType,
    [property: Id(2)] long[] Shape,
    [property: Id(3)] long Offset,
    [property: Id(4)] long Length);

/// <summary>
/// A published weights version: the model's architecture (so a generator can build its replica; the
/// tokenizer, megabytes for real vocabularies, is fetched once per replica, not with every version:
/// <c>ILearnerGrain.GetTokenizerAsync</c>), the buffer's layout and checksum, how it is split into chunks for transfer through grain
/// calls, and, when the learner's silo serves bulk transfers, where and with what token to fetch it
/// whole over TCP instead. Under LoRA (LoraConfigJson set) a version's buffer holds only the adapters;
/// the frozen base is the version <c>BaseVersion</c> (-1) with checksum BaseChecksum, fetched once.
/// </summary>
[GenerateSerializer, Immutable, Alias("rollout.weights-manifest")]
public sealed record WeightsManifestWire(
    [property: Id(0)] string Job,
    [property: Id(1)] long Version,
    [property: Id(2)] string ModelConfigJson,
    // Id(3), the tokenizer's JSON, is retired.
    [property: Id(4)] IReadOnlyList<PackedTensorWire> Tensors,
    [property: Id(5)] long TotalBytes,
    [property: Id(6)] string Checksum,
    [property: Id(7)] int ChunkBytes,
    [property: Id(8)] int ChunkCount,
    [property: Id(9)] string DType,
    // Id(10), the end-of-sequence token, is retired (it travels with the tokenizer).
    [property: Id(11)] string? TransferEndpoint = null,
    [property: Id(12)] string? TransferToken = null,
    [property: Id(13)] string? LoraConfigJson = null,
    [property: Id(14)] string? BaseChecksum = null);

/// <summary>A job's tokenizer: tokenizer.json text and the end-of-sequence token's text.</summary>
[GenerateSerializer, Immutable, Alias("rollout.tokenizer")]
public sealed record TokenizerWire(
    [property: Id(0)] string Json,
    [property: Id(1)] string EosToken);
