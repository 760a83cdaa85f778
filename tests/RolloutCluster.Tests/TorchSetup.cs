using System.Runtime.CompilerServices;
using RolloutCluster.Model;

namespace RolloutCluster.Tests;

static class TorchSetup
{
    /// <summary>
    /// oneMKL settles its kernels at its first call, and the CLI and silo processes the tests start let
    /// it use the CPU's own (<see cref="MklCpuDispatch"/>) before any: so must this process, before any
    /// test multiplies a matrix, or runs compared across processes would differ in the last bits.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => MklCpuDispatch.Ensure();
}
