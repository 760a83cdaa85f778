using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace RolloutCluster.Model;

/// <summary>
/// Lets the oneMKL inside libtorch use the vector code its CPU supports on non-Intel x86 CPUs.
/// oneMKL 2024 (bundled in libtorch_cpu.so) asks <c>mkl_serv_intel_cpu_true()</c> whether the CPU
/// is Intel and, when it is not, runs its generic kernels whatever the CPU can do; the
/// MKL_DEBUG_CPU_TYPE switch that used to override this is gone. On the AMD EPYC (Zen 4) machines
/// here, single-thread sgemm measured 103-107 GFLOP/s as shipped and 200-220 with the check
/// answering yes (benchmarks/README.md); the kernels still pick their instruction set from the
/// CPU's feature flags, so the answer only removes the vendor test. The function is exported by
/// libtorch_cpu.so, and this rewrites its first instructions to "return 1" once per process,
/// before MKL's first call caches the answer. Set ROLLOUT_MKL_VENDOR_CHECK=keep to leave it alone.
/// </summary>
public static class MklCpuDispatch
{
    static readonly Lazy<string> Outcome = new(Apply, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>What was done, for logs: "patched", or why not.</summary>
    public static string Ensure() => Outcome.Value;

    delegate int IntFunction();

    static string Apply()
    {
        if (Environment.GetEnvironmentVariable("ROLLOUT_MKL_VENDOR_CHECK") == "keep") return "kept (ROLLOUT_MKL_VENDOR_CHECK=keep)";
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return "not x86-64 Linux";
        if (IsIntel()) return "Intel CPU, nothing to do";
        _ = TorchSharp.torch.get_num_threads(); // loads libtorch (TorchSharp's own loader) if nothing has yet
        IntPtr library = Native.dlopen("libtorch_cpu.so", Native.RtldLazy | Native.RtldNoLoad);
        if (library == IntPtr.Zero) return "libtorch_cpu.so not loaded";
        IntPtr function = Native.dlsym(library, "mkl_serv_intel_cpu_true");
        if (function == IntPtr.Zero) return "this libtorch has no mkl_serv_intel_cpu_true (not built with oneMKL)";
        var ask = Marshal.GetDelegateForFunctionPointer<IntFunction>(function);
        if (ask() != 0) return "oneMKL already treats this CPU as Intel";

        // mov eax, 1; ret — six bytes; the original is a full function (cpuid and a cache), far longer.
        byte[] returnOne = [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3];
        long pageSize = Environment.SystemPageSize;
        long start = function.ToInt64() & ~(pageSize - 1);
        var span = (nuint)(function.ToInt64() + returnOne.Length - start);
        if (Native.mprotect(new IntPtr(start), span, Native.ProtRead | Native.ProtWrite | Native.ProtExec) != 0)
            return $"mprotect refused (errno {Marshal.GetLastPInvokeError()}); oneMKL keeps its generic kernels";
        Marshal.Copy(returnOne, 0, function, returnOne.Length);
        _ = Native.mprotect(new IntPtr(start), span, Native.ProtRead | Native.ProtExec);
        return ask() == 1 ? "patched" : "patch did not take";
    }

    static bool IsIntel()
    {
        if (!X86Base.IsSupported) return false;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> vendor = stackalloc byte[12];
        BitConverter.TryWriteBytes(vendor, ebx);
        BitConverter.TryWriteBytes(vendor[4..], edx);
        BitConverter.TryWriteBytes(vendor[8..], ecx);
        return vendor.SequenceEqual("GenuineIntel"u8);
    }

    static class Native
    {
        public const int RtldLazy = 0x1, RtldNoLoad = 0x4;
        public const int ProtRead = 0x1, ProtWrite = 0x2, ProtExec = 0x4;

        [DllImport("libc.so.6")] public static extern IntPtr dlopen(string file, int mode);
        [DllImport("libc.so.6")] public static extern IntPtr dlsym(IntPtr handle, string name);
        [DllImport("libc.so.6", SetLastError = true)] public static extern int mprotect(IntPtr address, nuint length, int protection);
    }
}
