using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using RolloutCluster.Abstractions;

namespace RolloutCluster.Grains;

/// <summary>
/// The devices this silo samples on: "cuda:0", "cuda:1"… when CUDA is present and wanted, else "cpu";
/// none for a silo that hosts learners and verifiers only.
/// </summary>
public sealed record SiloDevices(IReadOnlyList<string> Devices)
{
    public static SiloDevices Discover(string requested = "auto")
    {
        if (requested == "none") return new([]);
        if (requested == "cpu") return new(["cpu"]);
        int cuda = Model.TorchDevices.CudaDeviceCount;
        return cuda > 0 ? new(Enumerable.Range(0, cuda).Select(i => $"cuda:{i}").ToList()) : new(["cpu"]);
    }
}

/// <summary>
/// Registers this silo's generators ("silo/device") with the directory once the silo is up, and every
/// 5 s after, so a directory that lost its state learns them again.
/// </summary>
public sealed partial class GeneratorRegistration(ILocalSiloDetails silo, IGrainFactory grains, SiloDevices devices, TimeProvider time,
    ILogger<GeneratorRegistration> logger) : BackgroundService
{
    public static string Key(SiloAddress silo, string device) => $"{silo.ToParsableString()}/{device}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var keys = devices.Devices.Select(d => Key(silo.SiloAddress, d)).ToList();
        var directory = grains.GetGrain<IGeneratorDirectoryGrain>(0);
        bool logged = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await directory.RegisterAsync(silo.SiloAddress.ToParsableString(), keys);
                if (!logged) LogRegistered(logger, keys.Count, string.Join(", ", devices.Devices));
                logged = true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRegistrationFailed(logger, e.Message);
            }
            try { await Task.Delay(logged ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(1), time, stoppingToken); }
            catch (OperationCanceledException) { }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered {Count} generator(s) on devices {Devices}")]
    static partial void LogRegistered(ILogger logger, int count, string devices);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generator registration failed, retrying: {Reason}")]
    static partial void LogRegistrationFailed(ILogger logger, string reason);
}
