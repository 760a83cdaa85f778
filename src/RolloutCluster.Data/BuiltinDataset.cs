using System.Globalization;

namespace RolloutCluster.Data;

/// <summary>
/// References to built-in data: "builtin:arithmetic?split=test&amp;n=500" (query keys: split = test|train,
/// n, seed, test_size, max_operand, max_factor, operators). Missing keys take the given defaults.
/// </summary>
public static class BuiltinDataset
{
    public const string Arithmetic = "builtin:arithmetic";

    public static bool IsBuiltin(string reference) => reference.StartsWith("builtin:", StringComparison.Ordinal);

    /// <summary>Problems a reference names, or a file path's problems.</summary>
    public static IReadOnlyList<Problem> Resolve(string reference, long defaultSeed, ArithmeticSettings defaultSettings, int defaultTestSize)
    {
        if (!IsBuiltin(reference)) return new Datasets.DatasetSource(reference).Load().Problems;
        var (name, query) = reference.IndexOf('?') is var q and >= 0 ? (reference[..q], reference[(q + 1)..]) : (reference, "");
        if (name != Arithmetic) throw new DatasetException($"{reference}: unknown built-in dataset '{name}'; known: {Arithmetic}");
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv.Length != 2) throw new DatasetException($"{reference}: '{pair}' is not key=value");
            args[kv[0]] = Uri.UnescapeDataString(kv[1]);
        }
        string[] known = ["split", "n", "seed", "test_size", "max_operand", "max_factor", "operators"];
        if (args.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
            throw new DatasetException($"{reference}: unknown key '{unknown}'; known: {string.Join(", ", known)}");
        long Int(string key, long fallback) => !args.TryGetValue(key, out var v) ? fallback
            : long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x) ? x
            : throw new DatasetException($"{reference}: '{key}' must be an integer, found '{v}'");
        var settings = new ArithmeticSettings((int)Int("max_operand", defaultSettings.MaxOperand), (int)Int("max_factor", defaultSettings.MaxFactor),
            args.GetValueOrDefault("operators", defaultSettings.Operators));
        if (settings.Validate() is { } problem) throw new DatasetException($"{reference}: {problem}");
        int testSize = (int)Int("test_size", defaultTestSize);
        var split = args.GetValueOrDefault("split", "test");
        var n = Int("n", split == "test" ? testSize : 500);
        if (n < 1) throw new DatasetException($"{reference}: 'n' must be positive, found {n}");
        if (split == "test" && n > testSize) throw new DatasetException($"{reference}: n = {n} exceeds the test split's {testSize} problems");
        var task = new ArithmeticTask(settings, Int("seed", defaultSeed), testSize);
        return split switch
        {
            "test" => task.TestSet.Take((int)n).ToList(),
            "train" => task.Train().Take((int)n).ToList(),
            _ => throw new DatasetException($"{reference}: split must be test or train, found '{split}'"),
        };
    }
}
