using Microsoft.Extensions.Hosting;
using RolloutCluster.Abstractions;

namespace RolloutCluster.Grains;

/// <summary>
/// Every few seconds, asks the control grain to make sure each running job's learner is alive. When a
/// silo dies, the learner it hosted is reactivated on a live silo by this call and continues from its
/// latest checkpoint; the control grain itself reloads its registry from storage wherever it lands.
/// Every silo runs one, so the loss of any silo leaves keepers running.
/// </summary>
public sealed class JobKeeper(IGrainFactory grains, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(Interval, time, stoppingToken); }
            catch (OperationCanceledException) { return; }
            try { await grains.GetGrain<IControlGrain>(0).KeepJobsRunningAsync().WaitAsync(TimeSpan.FromSeconds(30), time, stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { }   // membership is still settling: the next round retries
        }
    }
}
