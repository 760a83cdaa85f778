using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using RolloutCluster.Abstractions;

namespace RolloutCluster.Silo;

/// <summary>
/// Job metrics for monitoring: the latest value of each job's headline metrics as gauges on the
/// "RolloutCluster" meter (exported by OpenTelemetry at /metrics for Prometheus). The job registry is
/// refreshed from the control grain every two seconds; a scrape never waits on a grain call.
/// </summary>
public sealed class JobTelemetry : BackgroundService
{
    public const string MeterName = "RolloutCluster";

    static readonly string[] Exported =
    [
        "reward/mean", "reward/accuracy", "reward/format", "response/length_mean", "actor/entropy", "actor/pg_loss", "actor/grad_norm",
        "actor/lr", "sft/loss", "timing/step_s", "perf/sampled_tokens_per_s", "groups/dispatched", "groups/trained", "groups/failed",
    ];

    readonly Meter _meter = new(MeterName);
    readonly IGrainFactory _grains;
    readonly TimeProvider _time;
    volatile IReadOnlyList<JobInfo> _jobs = [];

    public JobTelemetry(IGrainFactory grains, TimeProvider time)
    {
        _grains = grains;
        _time = time;
        foreach (var name in Exported)
            _meter.CreateObservableGauge("rollout_" + name.Replace('/', '_'), () => Observe(name), description: $"latest {name} of each job");
        _meter.CreateObservableGauge("rollout_job_step", () => _jobs.Select(j => new Measurement<double>(j.Step, Tag(j))), description: "current step of each job's stage");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { _jobs = await _grains.GetGrain<IControlGrain>(0).ListAsync(); }
            catch (Exception e) when (e is OrleansException or TimeoutException) { }
            try { await Task.Delay(TimeSpan.FromSeconds(2), _time, stoppingToken); }
            catch (OperationCanceledException) { }
        }
    }

    IEnumerable<Measurement<double>> Observe(string name) =>
        _jobs.Where(j => j.LatestMetrics.ContainsKey(name)).Select(j => new Measurement<double>(j.LatestMetrics[name], Tag(j)));

    static KeyValuePair<string, object?>[] Tag(JobInfo j) => [new("job", j.Name), new("stage", j.Stage), new("state", j.State.ToString())];

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }
}
