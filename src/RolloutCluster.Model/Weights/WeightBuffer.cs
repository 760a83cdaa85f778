using System.IO.Hashing;

namespace RolloutCluster.Model.Weights;

/// <summary>
/// A packed weights version in memory: one logical byte range of any length (a 7B model in fp32 is
/// 28 GB), held as segments of at most <see cref="DefaultSegmentBytes"/> because a .NET array stops at
/// 2 GiB. Offsets are 64-bit; reads and writes may cross segment boundaries. Every byte is written
/// before it is read (segments are allocated uninitialised).
/// </summary>
public sealed class WeightBuffer
{
    /// <summary>1 GiB: a multiple of every transfer chunk size, far under the array limit.</summary>
    public const int DefaultSegmentBytes = 1 << 30;

    readonly byte[][] _segments;

    public WeightBuffer(long length, int segmentBytes = DefaultSegmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentBytes, 1);
        Length = length;
        SegmentBytes = segmentBytes;
        int count = (int)Math.Max(1, (length + segmentBytes - 1) / segmentBytes);
        _segments = new byte[count][];
        for (int i = 0; i < count; i++)
            _segments[i] = GC.AllocateUninitializedArray<byte>((int)Math.Min(segmentBytes, length - (long)i * segmentBytes));
    }

    public long Length { get; }

    public int SegmentBytes { get; }

    /// <summary>The segments in order; all but the last hold exactly <see cref="SegmentBytes"/>.</summary>
    public IReadOnlyList<byte[]> Segments => _segments;

    /// <summary>Copies source into the buffer at offset, across segments as needed.</summary>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        Check(offset, source.Length);
        while (!source.IsEmpty)
        {
            var target = Remaining(offset, source.Length);
            source[..target.Length].CopyTo(target);
            source = source[target.Length..];
            offset += target.Length;
        }
    }

    /// <summary>Copies destination.Length bytes from offset into destination.</summary>
    public void Read(long offset, Span<byte> destination)
    {
        Check(offset, destination.Length);
        while (!destination.IsEmpty)
        {
            var source = Remaining(offset, destination.Length);
            source.CopyTo(destination);
            destination = destination[source.Length..];
            offset += source.Length;
        }
    }

    /// <summary>The bytes from offset to the end of its segment, at most max of them.</summary>
    Span<byte> Remaining(long offset, int max)
    {
        int segment = (int)(offset / SegmentBytes), within = (int)(offset % SegmentBytes);
        return _segments[segment].AsSpan(within, Math.Min(max, _segments[segment].Length - within));
    }

    void Check(long offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes [{offset}, {offset + count}) lie outside a weights buffer of {Length}");
    }

    /// <summary>The whole buffer as one array (tests and small payloads only).</summary>
    public byte[] ToArray()
    {
        if (Length > Array.MaxLength) throw new NotSupportedException($"a weights buffer of {Length} bytes does not fit one array");
        var array = new byte[Length];
        Read(0, array);
        return array;
    }

    /// <summary>
    /// The buffer's checksum as stored in manifests: "xxh128:" and 32 hex digits. It guards against
    /// truncation, corruption and mixing up versions, not against tampering (that is the transport's
    /// job: cluster TLS); 5 ms for 103 MB here, where SHA-256 cost ~0.3 s.
    /// </summary>
    public string Checksum()
    {
        var hash = new XxHash128();
        foreach (var segment in _segments) hash.Append(segment.AsSpan(0, (int)Math.Min(segment.Length, Length)));
        return FormatChecksum(hash.GetCurrentHash());
    }

    /// <summary>The manifest form of an XxHash128 digest (for hashes computed incrementally).</summary>
    public static string FormatChecksum(ReadOnlySpan<byte> xxHash128) => "xxh128:" + Convert.ToHexStringLower(xxHash128);
}
