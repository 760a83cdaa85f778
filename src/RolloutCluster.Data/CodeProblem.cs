namespace RolloutCluster.Data;

/// <summary>
/// A programming task: the prompt the completion continues (e.g. a signature and docstring), the test
/// code run after it, the function check() is called with, independent test cases when the dataset
/// lists them, and the reference solution when it has one.
/// </summary>
public sealed record CodeProblem(string Id, string Prompt, string? Tests, string? EntryPoint, IReadOnlyList<string>? TestCases = null, string? CanonicalSolution = null);
