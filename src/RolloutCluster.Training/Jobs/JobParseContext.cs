using RolloutCluster.Data;
using RolloutCluster.Data.Datasets;
using RolloutCluster.Rewards;

namespace RolloutCluster.Training.Jobs;

/// <summary>
/// What a stage's parser may need from the rest of the job file: where relative paths start, the
/// model and the task (for checks that span sections, such as memory), and the rewards.
/// </summary>
public sealed class JobParseContext(string file, string baseDirectory)
{
    public string File => file;
    public ModelSpec Model { get; set; } = null!;
    public TaskSpec Task { get; set; } = null!;
    public IReadOnlyList<RewardSpec> Rewards { get; set; } = [];

    /// <summary>The stages listed before the one being read (a stage may read what an earlier one wrote).</summary>
    public IReadOnlyList<StageSpec> EarlierStages { get; set; } = [];

    /// <summary>The training file's rows as validation read them (null for a built-in task).</summary>
    public IReadOnlyList<Problem>? TrainProblems { get; set; }

    /// <summary>A dataset path as the job's process will open it: relative paths start at the submitter's working directory.</summary>
    public string Resolve(string path) => BuiltinDataset.IsBuiltin(path) || path.StartsWith("holdout:", StringComparison.Ordinal) || Path.IsPathRooted(path)
        ? path : Path.GetFullPath(Path.Combine(baseDirectory, path));

    /// <summary>Reads a dataset a field names, so a missing or malformed one refuses the job before anything runs.</summary>
    public void CheckDataset(SpecMap map, string key, string path)
    {
        if (BuiltinDataset.IsBuiltin(path))
        {
            try { BuiltinDataset.Resolve(path, 0, Task.Arithmetic, Task.TestSize); }
            catch (DatasetException e) { throw map.ErrorAt(key, e.Message); }
            return;
        }
        IReadOnlyList<Problem> problems;
        try { problems = new DatasetSource(path, Task.Format, Task.Fields, Task.SkipBadRows).Load().Problems; }
        catch (DatasetException e) { throw map.ErrorAt(key, e.Message); }
        // Evaluation judges correctness with the job's answer or code reward.
        if (JobFile.Unfed(Evaluation.Evaluator.Correctness(Rewards).Name, problems, path, Task) is { } fault) throw map.ErrorAt(key, fault);
    }

    /// <summary>
    /// Memory a step would take beyond what this machine can give a job: refused, with the limit named.
    /// The limit is a quarter of the memory available to this process (a cluster runs several jobs,
    /// and the model, optimizer and activations need the rest).
    /// </summary>
    public void CheckMemory(SpecMap map, string key, double bytes, string what)
    {
        double limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4.0;
        if (bytes > limit)
            throw map.ErrorAt(key, $"{what} need about {Gib(bytes)} for one step, over the limit of {Gib(limit)} (a quarter of the {Gib(limit * 4)} this machine can give a process)");
    }

    static string Gib(double bytes) => bytes >= 1 << 30 ? $"{bytes / (1L << 30):F1} GiB" : $"{bytes / (1 << 20):F0} MiB";

    /// <summary>Bytes of one sampled sequence held until the learner consumes it: token ids, log-probs and text (UTF-16), and the objects around them.</summary>
    public static double BytesPerSequence(int promptTokens, int newTokens) => 512 + (promptTokens + newTokens) * (4 + 4 + 2 * 4);
}
