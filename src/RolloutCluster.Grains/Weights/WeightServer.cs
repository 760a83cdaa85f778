using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RolloutCluster.Grains.Weights;

/// <summary>How this silo serves weights in bulk: over TCP on Listen:Port (0 = any free port), advertised as Advertised:port; or not at all.</summary>
public sealed record WeightTransferOptions(bool Enabled, IPAddress Listen, IPAddress Advertised, int Port = 0)
{
    public static WeightTransferOptions Off { get; } = new(false, IPAddress.Loopback, IPAddress.Loopback);
}

/// <summary>
/// Serves the weights of this silo's learners to other silos' <see cref="WeightCache"/>s over plain
/// TCP (<see cref="WeightTransfer"/> protocol), each request checked against its store's token. Off
/// when the cluster uses TLS (the bytes would leave its protection): chunks through grain calls then.
/// </summary>
public sealed partial class WeightServer(PublishedWeights published, WeightTransferOptions options, ILogger<WeightServer> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Enabled) return Task.CompletedTask;
        _listener = new TcpListener(options.Listen, options.Port);
        _listener.Start(backlog: 64);
        int port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        published.TransferEndpoint = options.Advertised.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{options.Advertised}]:{port}" : $"{options.Advertised}:{port}";
        LogListening(logger, published.TransferEndpoint);
        return base.StartAsync(cancellationToken);
    }

    TcpListener? _listener;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stop = stoppingToken.Register(() => _listener!.Stop());
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener!.AcceptSocketAsync(stoppingToken); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { break; }
            _ = ServeAsync(socket, stoppingToken);
        }
        published.TransferEndpoint = null;
    }

    async Task ServeAsync(Socket socket, CancellationToken stoppingToken)
    {
        using var _ = socket;
        socket.NoDelay = true;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        // A request is a few dozen bytes: a peer that does not send it promptly is dropped.
        using var requestDeadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        requestDeadline.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var (token, job, version) = await WeightTransfer.ReadRequestAsync(stream, requestDeadline.Token);
            var store = published.Find(job);
            if (store is null) { await WeightTransfer.WriteErrorAsync(stream, $"no learner of job {job} on this silo", stoppingToken); return; }
            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token), Encoding.ASCII.GetBytes(store.Token)))
            {
                LogRefused(logger, job, socket.RemoteEndPoint?.ToString() ?? "?");
                await WeightTransfer.WriteErrorAsync(stream, "wrong token", stoppingToken);
                return;
            }
            using var lease = store.Borrow(version);
            if (lease is null) { await WeightTransfer.WriteErrorAsync(stream, $"version {version} is no longer kept", stoppingToken); return; }
            await WeightTransfer.WriteBufferAsync(stream, lease.Buffer, stoppingToken);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or WeightTransferException or EndOfStreamException)
        {
            LogDropped(logger, socket.RemoteEndPoint?.ToString() ?? "?", e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving weights over TCP at {Endpoint}")]
    static partial void LogListening(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a weights request for job {Job} from {Peer}: wrong token")]
    static partial void LogRefused(ILogger logger, string job, string peer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Weights connection from {Peer} dropped: {Reason}")]
    static partial void LogDropped(ILogger logger, string peer, string reason);
}
