using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model;

/// <summary>Chooses where tensors live: CUDA when it is asked for and present, the CPU otherwise.</summary>
public static class TorchDevices
{
    /// <summary>
    /// requested: "auto" (cuda:0 when available), "cpu", "cuda" or "cuda:N". A CUDA request on a
    /// machine without CUDA falls back to the CPU; the reason is returned for the caller to log.
    /// </summary>
    public static (Device Device, string? Note) Select(string requested)
    {
        MklCpuDispatch.Ensure(); // before the first matrix product: oneMKL settles its kernels then
        var want = requested.Trim().ToLowerInvariant();
        if (want == "cpu") return (CPU, null);
        if (want != "auto" && !want.StartsWith("cuda", StringComparison.Ordinal))
            throw new ArgumentException($"device '{requested}' is not one of auto, cpu, cuda, cuda:N");
        if (!cuda.is_available())
            return (CPU, want == "auto" ? null : $"device '{requested}' requested but CUDA is not available (this build uses the {(IsCudaBuild ? "CUDA" : "CPU")} libtorch); using cpu");
        return (want == "auto" ? CUDA : new Device(want), null);
    }

    /// <summary>Number of CUDA devices visible (0 on CPU builds).</summary>
    public static int CudaDeviceCount => cuda.is_available() ? cuda.device_count() : 0;

    static bool IsCudaBuild => typeof(TorchDevices).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .OfType<System.Reflection.AssemblyMetadataAttribute>().Any(a => a.Key == "TorchBackend" && a.Value == "cuda");
}
