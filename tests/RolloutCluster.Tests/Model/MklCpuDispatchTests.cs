using System.Runtime.InteropServices;
using RolloutCluster.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

public sealed class MklCpuDispatchTests
{
    [Fact]
    public void On_a_non_intel_x86_cpu_onemkl_is_told_to_use_the_cpus_own_kernels()
    {
        string outcome = MklCpuDispatch.Ensure();
        Assert.Equal(outcome, MklCpuDispatch.Ensure());   // once per process
        bool amd = File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("vendor_id", StringComparison.Ordinal) && l.Contains("AuthenticAMD"));
        if (amd && RuntimeInformation.ProcessArchitecture == Architecture.X64)
            Assert.Equal("patched", outcome);
        else
            Assert.NotEqual("patched", outcome);
    }

    [Fact]
    public void Matrix_products_after_the_patch_agree_with_double_precision()
    {
        MklCpuDispatch.Ensure();
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        foreach (var (m, k, n) in new[] { (64, 320, 12288), (1, 320, 640), (37, 129, 65), (1024, 1024, 1024) })
        {
            var a = randn(m, k);
            var b = randn(k, n);
            var got = mm(a, b);
            var want = mm(a.to(float64), b.to(float64)).to(float32);
            double worst = (got - want).abs().max().item<float>();
            Assert.True(worst < 1e-3 * Math.Sqrt(k), $"{m}x{k}x{n}: max |diff| {worst}");
        }
    }
}
