using System.Runtime.InteropServices;

namespace RolloutCluster.Model;

/// <summary>
/// glibc's malloc settings for processes that train models of real size. libtorch's CPU tensors come
/// from malloc; glibc serves requests below its mmap threshold (which grows to 32 MB as large blocks are
/// freed) from heaps it rarely gives back, so gradients and activations freed after one step stayed
/// resident through the next: a 0.5B model's learner held 1.2 GB more in its second step. Above a
/// fixed 1 MB threshold each such tensor is mapped and unmapped by itself, and the learner's peak
/// fell from 1.34x to 1.24x of its weights, gradients and optimizer state (benchmarks/README.md); it
/// costs a page fault per page of every new large tensor, so it is used only for large models.
/// </summary>
public static class HeapTuning
{
    const int MmapThresholdOption = -3;   // M_MMAP_THRESHOLD in malloc.h
    static int _applied;

    /// <summary>The threshold set, in bytes.</summary>
    public const int MmapThreshold = 1 << 20;

    /// <summary>Models with more weight bytes than this get the fixed threshold.</summary>
    public const long LargeModelBytes = 256L << 20;

    /// <summary>Sets the fixed threshold once per process (Linux with glibc only); true when it is in force.</summary>
    public static bool UseMmapForLargeBlocks()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Interlocked.Exchange(ref _applied, 1) == 1) return true;
        try { return Mallopt(MmapThresholdOption, MmapThreshold) == 1; }
        catch (EntryPointNotFoundException) { return false; }   // a C library other than glibc (musl)
        catch (DllNotFoundException) { return false; }
    }

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    static extern int Mallopt(int option, int value);
}
