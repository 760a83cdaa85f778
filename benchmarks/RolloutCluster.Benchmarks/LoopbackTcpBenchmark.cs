using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// The weight-broadcast benchmark's baseline: one sender writes the same buffer to N receivers over
/// loopback TCP at once (as a learner serving N silos would, with nothing but sockets in the way);
/// prints the time until every receiver has all of it, best and median of several rounds.
/// </summary>
public static class LoopbackTcpBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        long bytes = args.Int("megabytes", 100) * 1_000_000L;
        int receivers = args.Int("receivers", 3), rounds = args.Int("rounds", 5);
        bool fresh = args.Get("into", "scratch") == "fresh";
        var payload = Random(bytes);
        var times = new List<double>();
        for (int round = 0; round < rounds; round++) times.Add(await RoundAsync(payload, receivers, fresh));
        times.Sort();
        double best = times[0], median = times[times.Count / 2];
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "loopback_tcp", receive_into = fresh ? "fresh buffers" : "a reused 1 MB buffer", megabytes = bytes / 1e6, receivers, rounds, best_s = Math.Round(best, 3), median_s = Math.Round(median, 3),
            best_gbytes_per_s = Math.Round(bytes * receivers / best / 1e9, 2),
        }));
        return 0;
    }

    /// <summary>A buffer of random bytes (any length: segmented).</summary>
    public static RolloutCluster.Model.Weights.WeightBuffer Random(long bytes)
    {
        var payload = new RolloutCluster.Model.Weights.WeightBuffer(bytes);
        foreach (var segment in payload.Segments) System.Random.Shared.NextBytes(segment);
        return payload;
    }

    /// <summary>
    /// One round: the time until every receiver has all bytes. Receivers read into one reused 1 MB
    /// buffer (the sockets alone), or with <paramref name="intoFreshMemory"/> each into a new buffer of
    /// the payload's size, as a process receiving a version for the first time must (page faults included).
    /// </summary>
    public static async Task<double> RoundAsync(RolloutCluster.Model.Weights.WeightBuffer payload, int receivers, bool intoFreshMemory = false)
    {
        var listeners = Enumerable.Range(0, receivers).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var receiving = listeners.Select(async listener =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            if (intoFreshMemory)
            {
                var fresh = new RolloutCluster.Model.Weights.WeightBuffer(payload.Length);
                long read = 0;
                foreach (var segment in fresh.Segments)
                    for (int at = 0, n; at < segment.Length; at += n, read += n)
                        if ((n = await stream.ReadAsync(segment.AsMemory(at))) == 0) return read;
                return read;
            }
            var buffer = new byte[1 << 20];
            long total = 0;
            int got;
            while ((got = await stream.ReadAsync(buffer)) > 0) total += got;
            return total;
        }).ToList();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(listeners.Select(async listener =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            foreach (var segment in payload.Segments) await client.GetStream().WriteAsync(segment);
            client.Client.Shutdown(SocketShutdown.Send);
        }));
        var received = await Task.WhenAll(receiving);
        double seconds = clock.Elapsed.TotalSeconds;
        listeners.ForEach(l => l.Stop());
        if (received.Any(r => r != payload.Length)) throw new InvalidOperationException("a receiver got fewer bytes than sent");
        return seconds;
    }
}
