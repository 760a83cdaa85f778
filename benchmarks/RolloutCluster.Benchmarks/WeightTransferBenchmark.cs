using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RolloutCluster.Grains;
using RolloutCluster.Model.Weights;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Benchmarks;

/// <summary>
/// The weight transfer's pieces in one process, each round alternating with its baseline: (1) the
/// <see cref="WeightTransfer"/> protocol from a <see cref="WeightServer"/> to N concurrent receivers,
/// into pooled buffers as silos' caches do, with the checksum check, against raw loopback TCP writes of
/// the same bytes (<see cref="LoopbackTcpBenchmark"/>), or into fresh buffers with --fresh yes;
/// (2) packing the bench-100m model and checksumming the buffer. With --synthetic-model yes the
/// payload is no longer random bytes but a packed model of about that size whose embedding alone is
/// one tensor of the whole size (past .NET's 2 GiB array and span limits when --megabytes is over 2147).
/// </summary>
public static class WeightTransferBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        long bytes = args.Int("megabytes", 103) * 1_000_000L;
        int receivers = args.Int("receivers", 3), rounds = args.Int("rounds", 7);
        bool synthetic = args.Get("synthetic-model", "no") == "yes";
        WeightBuffer payload;
        double packSeconds = 0;
        if (synthetic)
        {
            // The tiny preset's layers under an embedding of bytes / (128 x 4) rows: one float32 tensor of ~bytes.
            var config = RolloutCluster.Model.ModelPresets.Get("tiny", (int)(bytes / (128 * 4)));
            using var big = new RolloutCluster.Model.Transformer.CausalLm(config);
            var packing = Stopwatch.StartNew();
            payload = WeightPack.Pack(big).Buffer;
            packSeconds = packing.Elapsed.TotalSeconds;
            bytes = payload.Length;
        }
        else payload = LoopbackTcpBenchmark.Random(bytes);

        var published = new PublishedWeights(new WeightBufferPool());
        var server = new WeightServer(published, new WeightTransferOptions(true, IPAddress.Loopback, IPAddress.Loopback), NullLogger<WeightServer>.Instance);
        await server.StartAsync(CancellationToken.None);
        var store = published.Open("bench");
        store.PublishBuffer(1, payload);
        string checksum = payload.Checksum();

        var (raw, ours) = (new List<double>(), new List<double>());
        var (pack, checksums) = (new List<double>(), new List<double>());
        // Receivers fetch into pooled buffers, one pool each, as silos' caches do (fresh memory each time: --fresh yes).
        var pools = Enumerable.Range(0, receivers).Select(_ => new WeightBufferPool()).ToArray();
        bool fresh = args.Get("fresh", "no") == "yes";
        var kept = new List<WeightBuffer>();
        using var model = new RolloutCluster.Model.Transformer.CausalLm(RolloutCluster.Model.ModelPresets.Get(synthetic ? "tiny" : "bench-100m", 12288));
        for (int round = 0; round < rounds; round++)
        {
            raw.Add(await LoopbackTcpBenchmark.RoundAsync(payload, receivers));
            var clock = Stopwatch.StartNew();
            var fetched = await Task.WhenAll(Enumerable.Range(0, receivers).Select(async receiver =>
            {
                var rented = pools[receiver].Rent(bytes);
                if (await WeightTransfer.FetchIntoAsync(published.TransferEndpoint!, store.Token, "bench", 1, rented.Buffer, CancellationToken.None) != checksum) throw new InvalidDataException("checksum mismatch");
                if (fresh) lock (kept) kept.Add(rented.Buffer);
                else rented.Release();
                return rented.Buffer.Length;
            }));
            ours.Add(clock.Elapsed.TotalSeconds);
            var packing = Stopwatch.StartNew();
            WeightPack.Pack(model);
            pack.Add(packing.Elapsed.TotalSeconds);
            var hashing = Stopwatch.StartNew();
            payload.Checksum();
            checksums.Add(hashing.Elapsed.TotalSeconds);
        }
        await server.StopAsync(CancellationToken.None);
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "weight_transfer_in_process", megabytes = bytes / 1e6, receivers, rounds,
            raw_tcp_median_s = Math.Round(Median(raw), 4), transfer_median_s = Math.Round(Median(ours), 4),
            ratio_raw_over_transfer = Math.Round(Median(raw) / Median(ours), 2),
            receive_into = fresh ? "fresh buffers" : "pooled buffers",
            payload = synthetic ? "packed synthetic model" : "random bytes", pack_payload_s = Math.Round(packSeconds, 2),
            pack_bench_100m_median_s = Math.Round(Median(pack), 4), checksum_median_s = Math.Round(Median(checksums), 4),
        }));
        return 0;
    }
}
