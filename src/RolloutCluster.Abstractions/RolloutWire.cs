namespace RolloutCluster.Abstractions;

/// <summary>A problem to sample completions for, with what its rewards need (the answer; for code, the tests).</summary>
[GenerateSerializer, Immutable, Alias("rollout.problem")]
public sealed record ProblemWire(
    [property: Id(0)] string Id,
    [property: Id(1)] string Question,
    [property: Id(2)] string Answer,
    [property: Id(3)] string? Tests = null,
    [property: Id(4)] string? EntryPoint = null,
    [property: Id(5)] IReadOnlyList<string>? TestCases = null,
    [property: Id(6)] string? Effort = null);

/// <summary>Sampling settings.</summary>
[GenerateSerializer, Immutable, Alias("rollout.sampling")]
public sealed record SamplingWire(
    [property: Id(0)] float Temperature,
    [property: Id(1)] float TopP,
    [property: Id(2)] int TopK,
    [property: Id(3)] int MaxNewTokens,
    [property: Id(4)] int MaxBatchTokens = 0);

/// <summary>A reward function with its weight and options.</summary>
[GenerateSerializer, Immutable, Alias("rollout.reward-spec")]
public sealed record RewardWire(
    [property: Id(0)] string Name,
    [property: Id(1)] double Weight,
    [property: Id(2)] IReadOnlyDictionary<string, string> Options);

/// <summary>
/// Work for a generator: G completions for each problem with exactly weights version Version of job
/// Job, then scored by a verifier with Rewards. Prompts are the problems' prompt token ids, rendered
/// once by the learner (prompt or chat template, system message). Nothing here is particular to one
/// algorithm. Retired ids: 7 (a template name: generators no longer render prompts), 9 and 10 (GRPO's
/// overlong shaping: the GRPO stage shapes rewards itself). Row j of problem i uses the seed derived from (Seed,
/// (FirstProblem + i)·G + j), so a request split across generators samples what one would. Epoch
/// counts the learner's (re)starts: versions of an earlier run of the job are never served for a later one.
/// </summary>
[GenerateSerializer, Immutable, Alias("rollout.generate-request")]
public sealed record GenerateRequest(
    [property: Id(0)] string Job,
    [property: Id(1)] long Version,
    [property: Id(2)] IReadOnlyList<ProblemWire> Problems,
    [property: Id(3)] int FirstProblem,
    [property: Id(4)] int GroupSize,
    [property: Id(5)] SamplingWire Sampling,
    [property: Id(6)] long Seed,
    [property: Id(8)] IReadOnlyList<RewardWire> Rewards,
    [property: Id(12)] IReadOnlyList<int[]> Prompts,
    [property: Id(11)] long Epoch = 0);

/// <summary>One sampled completion and its reward breakdown (id 4, a shaped reward, is retired).</summary>
[GenerateSerializer, Immutable, Alias("rollout.scored-completion")]
public sealed record ScoredCompletionWire(
    [property: Id(0)] int[] TokenIds,
    [property: Id(1)] float[] LogProbs,
    [property: Id(2)] string Text,
    [property: Id(3)] bool Truncated,
    [property: Id(5)] IReadOnlyDictionary<string, double> Values,
    [property: Id(6)] IReadOnlyDictionary<string, string> Reasons,
    [property: Id(7)] double RewardTotal);

/// <summary>A scored group: the problem, its prompt ids, its completions, the version and generator that made them.</summary>
[GenerateSerializer, Immutable, Alias("rollout.scored-group")]
public sealed record ScoredGroupWire(
    [property: Id(0)] ProblemWire Problem,
    [property: Id(1)] int[] Prompt,
    [property: Id(2)] IReadOnlyList<ScoredCompletionWire> Completions,
    [property: Id(3)] long WeightsVersion,
    [property: Id(4)] string Generator);

/// <summary>What a generator returns: the scored groups and how long sampling, scoring and waiting for the weights version took.</summary>
[GenerateSerializer, Immutable, Alias("rollout.generate-result")]
public sealed record GenerateResult(
    [property: Id(0)] IReadOnlyList<ScoredGroupWire> Groups,
    [property: Id(1)] double SampleSeconds,
    [property: Id(2)] double ScoreSeconds,
    [property: Id(3)] double WeightsSeconds = 0);

/// <summary>Completions to score, for one problem each (the verifier's input).</summary>
[GenerateSerializer, Immutable, Alias("rollout.score-request")]
public sealed record ScoreRequest(
    [property: Id(0)] IReadOnlyList<RewardWire> Rewards,
    [property: Id(1)] IReadOnlyList<ScoreItem> Items);

/// <summary>One completion with what its rewards need.</summary>
[GenerateSerializer, Immutable, Alias("rollout.score-item")]
public sealed record ScoreItem(
    [property: Id(0)] string Completion,
    [property: Id(1)] string? Answer,
    [property: Id(2)] string? Prompt,
    [property: Id(3)] string? Tests = null,
    [property: Id(4)] string? EntryPoint = null,
    [property: Id(5)] IReadOnlyList<string>? TestCases = null,
    [property: Id(6)] string? Context = null,
    [property: Id(7)] string? Effort = null);

/// <summary>A reward breakdown: the weighted total and each function's value and reason.</summary>
[GenerateSerializer, Immutable, Alias("rollout.score")]
public sealed record ScoreWire(
    [property: Id(0)] double Total,
    [property: Id(1)] IReadOnlyDictionary<string, double> Values,
    [property: Id(2)] IReadOnlyDictionary<string, string> Reasons);
