namespace RolloutCluster.Benchmarks;

/// <summary>--name value pairs with defaults.</summary>
public sealed class Args(string[] args)
{
    public string Get(string name, string fallback)
    {
        int i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);
}
