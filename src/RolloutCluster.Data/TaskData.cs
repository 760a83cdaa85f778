using RolloutCluster.Data.Datasets;

namespace RolloutCluster.Data;

/// <summary>
/// Where a task's problems come from: "builtin:arithmetic", or a dataset file (JSONL, JSON, Parquet)
/// with its format and field mapping. Test is a second file, "holdout:N" (N rows of the training file,
/// chosen by the seed, that training never sees), or for the built-in task its own test split.
/// Epochs caps how often training goes through a file (null: as often as the stages ask). TestSize
/// sizes the built-in task's test split; TestLimit keeps the first rows of a test file (null: all).
/// </summary>
public sealed record TaskSource(string Dataset, string Format = "generic", IReadOnlyDictionary<string, string>? Fields = null, string? Test = null,
    bool SkipBadRows = false, int? Epochs = null, bool Shuffle = true, ArithmeticSettings? Arithmetic = null, int TestSize = 500, int? TestLimit = null);

/// <summary>
/// A task's problems: a test set in a fixed order, and training streams, each reproducible from the
/// seed and its stream index. Files are shuffled anew each epoch; the built-in task is endless.
/// </summary>
public sealed class TaskData
{
    readonly Func<int, IEnumerable<Problem>> _train;

    TaskData(Func<int, IEnumerable<Problem>> train, IReadOnlyList<Problem> test, int? trainRows, IReadOnlyList<string> notes)
    {
        _train = train;
        Test = test;
        TrainRows = trainRows;
        Notes = notes;
    }

    /// <summary>The held-out problems, in a fixed order.</summary>
    public IReadOnlyList<Problem> Test { get; }

    /// <summary>Rows of the training file (null for an endless built-in task).</summary>
    public int? TrainRows { get; }

    /// <summary>What loading skipped or filtered, one line each (to report, never silently).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Training problems for one stream (each stage uses its own).</summary>
    public IEnumerable<Problem> Train(int stream) => _train(stream);

    /// <summary>Loads the task's data (the training file unless the caller has read it already); errors name the file, the line and the field.</summary>
    public static TaskData Load(TaskSource source, long seed, LoadedDataset? trainFile = null)
    {
        if (BuiltinDataset.IsBuiltin(source.Dataset))
        {
            if (source.Dataset != BuiltinDataset.Arithmetic)
                throw new DatasetException($"unknown built-in dataset '{source.Dataset}'; known: {BuiltinDataset.Arithmetic}");
            var task = new ArithmeticTask(source.Arithmetic ?? new ArithmeticSettings(), seed, source.TestSize);
            var test = source.Test is null ? task.TestSet : LoadTest(source, source.Test, seed, []).Test;
            return new TaskData(task.Train, test, null, []);
        }
        var loaded = trainFile ?? new DatasetSource(source.Dataset, source.Format, source.Fields, source.SkipBadRows).Load();
        var notes = new List<string>();
        if (loaded.Skipped > 0) notes.Add($"{source.Dataset}: skipped {loaded.Skipped} bad row(s); first: {loaded.Errors[0]}");
        var (train, testSet) = LoadTest(source, source.Test, seed, loaded.Problems, notes);
        return new TaskData(stream => Epochs(train, seed, stream, source.Epochs, source.Shuffle), testSet, train.Count, notes);
    }

    static (IReadOnlyList<Problem> Train, IReadOnlyList<Problem> Test) LoadTest(TaskSource source, string? test, long seed, IReadOnlyList<Problem> train,
        List<string>? notes = null)
    {
        if (test is null) return (train, []);
        if (test.StartsWith("holdout:", StringComparison.Ordinal))
        {
            if (!int.TryParse(test["holdout:".Length..], out var n) || n < 1 || n >= train.Count)
                throw new DatasetException($"test: \"{test}\": expected holdout:N with N between 1 and {train.Count - 1} (the training file's rows less one)");
            var order = Shuffled(train.Count, new Random(StableSeed.Of(seed, "holdout")));
            var held = order.Take(n).Order().ToHashSet();
            return (train.Where((_, i) => !held.Contains(i)).ToList(), held.Select(i => train[i]).ToList());
        }
        var loaded = new DatasetSource(test, source.Format, source.Fields, source.SkipBadRows).Load();
        if (loaded.Skipped > 0) notes?.Add($"{test}: skipped {loaded.Skipped} bad row(s); first: {loaded.Errors[0]}");
        return (train, loaded.Problems.Take(source.TestLimit ?? int.MaxValue).ToList());
    }

    static IEnumerable<Problem> Epochs(IReadOnlyList<Problem> rows, long seed, int stream, int? epochs, bool shuffle)
    {
        for (int epoch = 0; epochs is null || epoch < epochs; epoch++)
        {
            var order = shuffle ? Shuffled(rows.Count, new Random(StableSeed.Of(seed, "train-order", (long)stream * 1_000_003 + epoch))) : Enumerable.Range(0, rows.Count).ToArray();
            foreach (var i in order) yield return rows[i];
        }
    }

    static int[] Shuffled(int count, Random random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order;
    }

    /// <summary>The same task without the problems that fail a filter (e.g. prompts over a token budget); what was dropped is added to the notes.</summary>
    public TaskData Where(Func<Problem, bool> keep, string reason)
    {
        if (TrainRows is null)
        {
            int droppedTest = Test.Count(p => !keep(p));
            var notes = droppedTest > 0 ? Notes.Append($"{droppedTest} of {Test.Count} test problems dropped: {reason}").ToList() : Notes;
            return new TaskData(stream => _train(stream).Where(keep), Test.Where(keep).ToList(), null, notes);
        }
        var first = _train(0).Take(TrainRows.Value).ToList();
        int kept = first.Count(keep), testKept = Test.Count(keep);
        var all = kept == TrainRows && testKept == Test.Count ? Notes
            : Notes.Append($"{TrainRows - kept} of {TrainRows} training and {Test.Count - testKept} of {Test.Count} test problems dropped: {reason}").ToList();
        if (kept == 0) throw new DatasetException($"every training problem was dropped: {reason}");
        return new TaskData(stream => _train(stream).Where(keep), Test.Where(keep).ToList(), kept, all);
    }
}
