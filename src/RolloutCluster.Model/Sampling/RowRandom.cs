namespace RolloutCluster.Model.Sampling;

/// <summary>
/// Counter-based uniforms: the draw for (seed, step) is a pure function, so a row samples the same
/// tokens whatever batch it shares, and runs reproduce across machines and thread counts.
/// </summary>
public static class RowRandom
{
    /// <summary>SplitMix64's finaliser (Steele et al. 2014).</summary>
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A seed for row i of a batch sampled with the given seed.</summary>
    public static long RowSeed(long seed, long row) => (long)Mix((ulong)seed ^ Mix((ulong)row + 0x632BE59BD9B4E019UL));

    /// <summary>A uniform in [0, 1) for a row seed and a step.</summary>
    public static double Uniform(long rowSeed, long step) =>
        (Mix((ulong)rowSeed + Mix((ulong)step)) >> 11) * (1.0 / (1UL << 53));
}
