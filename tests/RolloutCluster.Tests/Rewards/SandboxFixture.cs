using Microsoft.Extensions.Logging.Abstractions;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Tests.Rewards;

/// <summary>One real sandbox (bubblewrap, seccomp, cgroups) shared by the sandbox tests, with tight limits so hostile programs end fast.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public static readonly SandboxOptions Options = new()
    {
        Lanes = 2,
        CpuSeconds = 2,
        WallSeconds = 3,
        LaneMemoryBytes = 256L << 20,
        AddressSpaceBytes = 512L << 20,
        LaneProcesses = 32,
        ScratchBytes = 8L << 20,
        FileSizeBytes = 4L << 20,
        OutputBytes = 64 << 10,
    };

    public CodeSandbox Sandbox { get; private set; } = null!;

    /// <summary>A sandbox of its own with the same limits and one lane, for tests that break or count lanes.</summary>
    public static async Task<CodeSandbox> OneLaneAsync() => (CodeSandbox)await CodeSandbox.CreateAsync(Options with { Lanes = 1 }, NullLogger.Instance);

    public async Task InitializeAsync() => Sandbox = (CodeSandbox)await CodeSandbox.CreateAsync(Options, NullLogger.Instance);

    public async Task DisposeAsync() => await Sandbox.DisposeAsync();
}

[CollectionDefinition("sandbox")]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>;
