namespace RolloutCluster.Algorithms;

/// <summary>Decisions about whole groups and single completions before the learner sees them (plain numbers, no tensors).</summary>
public static class GroupFilters
{
    /// <summary>
    /// Dynamic sampling (DAPO): a group whose rewards are all equal has zero advantage everywhere and
    /// teaches nothing; such groups are dropped and the batch refilled with fresh prompts.
    /// </summary>
    public static bool HasSignal(IReadOnlyList<double> groupRewards) =>
        groupRewards.Count > 1 && groupRewards.Any(r => r != groupRewards[0]);

    /// <summary>
    /// DAPO's soft overlong punishment (arXiv 2503.14476, eq. 13) for a completion of length tokens,
    /// with maxLength the generation limit and buffer the soft zone before it: 0 up to
    /// maxLength - buffer, then falling linearly to -1 at maxLength, -1 beyond.
    /// </summary>
    public static double SoftOverlongPenalty(int length, int maxLength, int buffer)
    {
        if (buffer <= 0 || buffer > maxLength) throw new ArgumentOutOfRangeException(nameof(buffer), $"buffer must be in (0, {maxLength}], found {buffer}");
        int expected = maxLength - buffer;
        if (length <= expected) return 0;
        if (length <= maxLength) return (double)(expected - length) / buffer;
        return -1;
    }
}
