namespace RolloutCluster.Data;

/// <summary>
/// Derives seeds from a job seed and a label. HashCode.Combine is randomised per process, so it
/// must never seed data: this is FNV-1a followed by a SplitMix64 finaliser, the same everywhere.
/// </summary>
public static class StableSeed
{
    public static int Of(long seed, string label, long index = 0)
    {
        ulong h = 14695981039346656037UL;
        foreach (var c in label)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        h ^= (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xC2B2AE3D27D4EB4FUL;
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
        return (int)((h ^ (h >> 31)) & 0x7FFFFFFF);
    }
}
