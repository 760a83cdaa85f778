using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using RolloutCluster.Data;
using RolloutCluster.Grains;
using RolloutCluster.Model.Weights;
using RolloutCluster.Training.Engine;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Tests.Grains;

/// <summary>The TCP weight server and its client, over real loopback sockets.</summary>
public sealed class WeightServerTests : IAsyncLifetime
{
    readonly PublishedWeights _published = new(new WeightBufferPool());
    WeightServer _server = null!;
    WeightStore _store = null!;

    public async Task InitializeAsync()
    {
        _server = new WeightServer(_published, new WeightTransferOptions(true, IPAddress.Loopback, IPAddress.Loopback), NullLogger<WeightServer>.Instance);
        await _server.StartAsync(CancellationToken.None);
        _store = _published.Open("job-a");
        using var policy = new Policy(TinyModels.Create(seed: 41), TinyModels.Tokenizer, PromptTemplate.R1Zero);
        _store.Publish("job-a", version: 3, forgetBelow: 0, policy);
    }

    public async Task DisposeAsync() => await _server.StopAsync(CancellationToken.None);

    string Endpoint => _published.TransferEndpoint!;

    [Fact]
    public async Task A_fetch_returns_the_published_buffer_byte_for_byte()
    {
        using var lease = _store.Borrow(3)!;
        var (manifest, buffer) = (lease.Manifest, lease.Buffer);
        Assert.Equal(Endpoint, manifest.TransferEndpoint);
        Assert.Equal(_store.Token, manifest.TransferToken);
        var fetched = await WeightTransfer.FetchAsync(Endpoint, _store.Token, "job-a", 3, manifest.TotalBytes, CancellationToken.None);
        Assert.Equal(buffer.ToArray(), fetched.ToArray());
        Assert.Equal(manifest.Checksum, fetched.Checksum());
        // Several at once, as the silos of a cluster ask after each step.
        var many = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => WeightTransfer.FetchAsync(Endpoint, _store.Token, "job-a", 3, manifest.TotalBytes, CancellationToken.None)));
        Assert.All(many, b => Assert.Equal(buffer.ToArray(), b.ToArray()));
        // Into a caller's (pooled) buffer, with the checksum computed on the way in; segments of 4 KiB
        // here so that the stream crosses dozens of segment boundaries, as a 3 GB version crosses 1 GiB ones.
        var into = new WeightBuffer(manifest.TotalBytes, segmentBytes: 4096);
        Assert.True(into.Segments.Count > 10);
        Assert.Equal(manifest.Checksum, await WeightTransfer.FetchIntoAsync(Endpoint, _store.Token, "job-a", 3, into, CancellationToken.None));
        Assert.Equal(buffer.ToArray(), into.ToArray());
    }

    [Theory]
    [InlineData("job-a", 3, "0123", "wrong token")]
    [InlineData("job-a", 2, null, "version 2 is no longer kept")]
    [InlineData("job-b", 3, null, "no learner of job job-b on this silo")]
    public async Task A_request_that_cannot_be_served_is_refused_with_the_reason(string job, long version, string? token, string reason)
    {
        var e = await Assert.ThrowsAsync<WeightTransferException>(() =>
            WeightTransfer.FetchAsync(Endpoint, token ?? _store.Token, job, version, 1, CancellationToken.None));
        Assert.Contains(reason, e.Message);
        Assert.Contains(Endpoint, e.Message);
    }

    [Fact]
    public async Task A_length_that_disagrees_with_the_manifest_is_an_error_naming_both()
    {
        long total = _store.Manifest(3)!.TotalBytes;
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => WeightTransfer.FetchAsync(Endpoint, _store.Token, "job-a", 3, total + 1, CancellationToken.None));
        Assert.Contains($"sends {total} bytes", e.Message);
        Assert.Contains($"says {total + 1}", e.Message);
    }

    [Fact]
    public async Task Garbage_and_silent_peers_are_dropped_and_the_server_keeps_serving()
    {
        var port = int.Parse(Endpoint.Split(':')[1]);
        using (var garbage = new TcpClient())
        {
            await garbage.ConnectAsync(IPAddress.Loopback, port);
            await garbage.GetStream().WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            // Closed without an answer (a reset when our unread bytes were still queued there).
            int answered;
            try { answered = await garbage.GetStream().ReadAsync(new byte[16]); }
            catch (IOException) { answered = 0; }
            Assert.Equal(0, answered);
        }
        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, port);
        using var lease = _store.Borrow(3)!;
        Assert.Equal(lease.Buffer.ToArray(), (await WeightTransfer.FetchAsync(Endpoint, _store.Token, "job-a", 3, lease.Manifest.TotalBytes, CancellationToken.None)).ToArray());
    }

    [Fact]
    public async Task A_closed_learner_store_is_no_longer_served()
    {
        _published.Close("job-a", _store);
        var e = await Assert.ThrowsAsync<WeightTransferException>(() => WeightTransfer.FetchAsync(Endpoint, _store.Token, "job-a", 3, 1, CancellationToken.None));
        Assert.Contains("no learner of job job-a", e.Message);
    }

    [Fact]
    public async Task Nothing_listening_at_the_endpoint_is_a_socket_error_the_cache_can_fall_back_from()
    {
        await Assert.ThrowsAsync<SocketException>(() =>
            WeightTransfer.FetchAsync($"127.0.0.1:{RolloutCluster.Silo.LoopbackPorts.Free()}", "x", "job-a", 3, 1, CancellationToken.None));
    }
}
