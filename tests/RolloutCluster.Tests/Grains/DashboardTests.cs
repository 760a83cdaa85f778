using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using RolloutCluster.Abstractions;
using RolloutCluster.Silo;
using Xunit.Abstractions;

namespace RolloutCluster.Tests.Grains;

/// <summary>
/// The silo host's Orleans dashboard, loaded in a real headless Chromium while a job runs: the page
/// must render and list the learner, generator and verifier grains. The screenshot is kept in the
/// test output directory (dashboard.png) for a human to look at.
/// </summary>
[Trait("speed", "slow")]   // a whole cluster and jobs on it
[Collection("cluster")]   // not in parallel with the TestingHost cluster: both are CPU-heavy
public sealed class DashboardTests(ITestOutputHelper output)
{
    const string Job = """
        name: dashboard-job
        seed: 5
        model: { preset: tiny, init_seed: 3, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: language, weight: 1.0 } ]
        stages:
          - { name: rl, kind: grpo, steps: 400, prompts_per_step: 2, group_size: 2, sampling: { max_new_tokens: 8 }, optimizer: { lr: 1.0e-4 } }
        """;

    [Fact]
    public async Task The_dashboard_renders_in_chromium_and_shows_the_rollout_grains_while_a_job_runs()
    {
        string chromium = Chromium() ?? throw new InvalidOperationException("chromium is not installed; ./test.sh installs it");
        int dashboardPort = LoopbackPorts.Free();
        var config = new SiloConfig { SiloPort = LoopbackPorts.Free(), GatewayPort = LoopbackPorts.Free(), DashboardPort = dashboardPort, Devices = "cpu" };
        await using var app = RolloutSiloHost.Build(config);
        await app.StartAsync();
        var control = app.Services.GetRequiredService<IGrainFactory>().GetGrain<IControlGrain>(0);
        var submitted = await control.SubmitAsync(new JobSubmission(Job, "dashboard-job.yaml", Path.Combine(TinyModels.TempDir(), "run")));
        Assert.True(submitted.Accepted, submitted.Error);
        try
        {
            // Wait for the job's first GRPO step so every grain kind has been activated and counted.
            for (int i = 0; i < 300 && (await control.StatusAsync("dashboard-job")).Job is not { Step: > 0 }; i++) await Task.Delay(200);
            string url = $"http://127.0.0.1:{dashboardPort}/";
            using (var http = new HttpClient())
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url)).StatusCode);

            string dom = "";
            for (int attempt = 0; attempt < 5 && !ListsGrains(dom); attempt++)   // the dashboard polls its statistics once a second
                dom = await RunChromium(chromium, "--dump-dom", $"{url}#/grains");
            Assert.True(ListsGrains(dom), "the grains page should name the learner, generator and verifier grains; got:\n" + dom[..Math.Min(dom.Length, 2000)]);

            string screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
            File.Delete(screenshot);
            await RunChromium(chromium, $"--screenshot={screenshot}", "--window-size=1400,1000", $"{url}#/grains");
            Assert.True(File.Exists(screenshot) && new FileInfo(screenshot).Length > 10_000, $"no screenshot at {screenshot}");
            output.WriteLine($"dashboard screenshot: {screenshot}");
        }
        finally
        {
            await control.CancelAsync("dashboard-job");
            await app.StopAsync();
        }
    }

    static bool ListsGrains(string dom) => dom.Contains("LearnerGrain") && dom.Contains("GeneratorGrain") && dom.Contains("VerifierGrain");

    static async Task<string> RunChromium(string chromium, params string[] args)
    {
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--virtual-time-budget=8000", $"--user-data-dir={TinyModels.TempDir()}" }.Concat(args))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException($"chromium did not finish in 90 s: {await stderr}"); }
        return await stdout;
    }

    static string? Chromium() => new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
}
