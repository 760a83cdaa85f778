namespace RolloutCluster.Silo;

/// <summary>
/// A silo's settings, bound from the "Rollout" section of appsettings.json, ROLLOUT__* environment
/// variables and command-line flags, in that order of precedence. Every listener binds to 127.0.0.1
/// unless ListenAddress says otherwise.
/// </summary>
public sealed record SiloConfig
{
    public string ClusterId { get; init; } = "rollout";
    public string ServiceId { get; init; } = "rollout-cluster";

    /// <summary>A Redis connection string for clustering (several silos); null runs a single silo with localhost clustering.</summary>
    public string? Redis { get; init; }

    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>The address other silos and clients use to reach this one (defaults to ListenAddress).</summary>
    public string? AdvertisedAddress { get; init; }

    public int SiloPort { get; init; } = 11111;
    public int GatewayPort { get; init; } = 30000;

    /// <summary>The Orleans dashboard and /metrics (Prometheus); 0 turns the web listener off.</summary>
    public int DashboardPort { get; init; } = 8080;

    /// <summary>
    /// "auto" (every CUDA device, else the CPU) or "cpu": one generator grain per device; "none": no
    /// generators, and learners are placed here first (a learner silo).
    /// </summary>
    public string Devices { get; init; } = "auto";

    /// <summary>Code sandbox isolation for code rewards: full, no-cgroups or none.</summary>
    public string SandboxIsolation { get; init; } = "full";

    /// <summary>Sandbox lanes on this silo (0 = one per core).</summary>
    public int SandboxLanes { get; init; }

    /// <summary>Where jobs submitted without a run directory write runs/&lt;job&gt; (a shared volume on a multi-node cluster, so a learner restarted elsewhere finds its checkpoints).</summary>
    public string RunsDirectory { get; init; } = "runs";

    /// <summary>A PKCS#12 (.pfx) certificate: silo-to-silo and client connections use TLS with it, and accept only peers presenting the same certificate.</summary>
    public string? TlsCertificate { get; init; }

    public string? TlsCertificatePassword { get; init; }

    /// <summary>
    /// How other silos fetch this silo's learners' weights: "tcp" (whole buffers over a TCP listener of
    /// its own, on ListenAddress), "grain" (4 MB chunks through grain calls), or "auto": tcp, unless
    /// TlsCertificate is set (the TCP transfer is not encrypted), then grain.
    /// </summary>
    public string WeightTransfer { get; init; } = "auto";

    /// <summary>The weight server's port; 0 takes any free one (it is announced in each weights manifest).</summary>
    public int WeightTransferPort { get; init; }

    /// <summary>The address other silos reach this one at: AdvertisedAddress, else ListenAddress, else (listening on 0.0.0.0) this host's first non-loopback IPv4 address.</summary>
    public System.Net.IPAddress AdvertisedIPAddress()
    {
        if (AdvertisedAddress is { } a) return System.Net.IPAddress.Parse(a);
        var listen = System.Net.IPAddress.Parse(ListenAddress);
        if (!listen.Equals(System.Net.IPAddress.Any)) return listen;
        return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .FirstOrDefault(ip => ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(ip)) ?? System.Net.IPAddress.Loopback;
    }

    /// <summary>Whether the TCP weight server runs, per <see cref="WeightTransfer"/>.</summary>
    public bool ServesWeightsOverTcp => WeightTransfer == "tcp" || WeightTransfer == "auto" && TlsCertificate is null;

    /// <summary>Returns what is wrong, naming the setting, or null.</summary>
    public string? Validate() =>
        SiloPort is < 1 or > 65535 ? $"Rollout:SiloPort must be a port number, found {SiloPort}"
        : GatewayPort is < 1 or > 65535 ? $"Rollout:GatewayPort must be a port number, found {GatewayPort}"
        : DashboardPort is < 0 or > 65535 ? $"Rollout:DashboardPort must be a port number or 0, found {DashboardPort}"
        : !System.Net.IPAddress.TryParse(ListenAddress, out _) ? $"Rollout:ListenAddress must be an IP address, found \"{ListenAddress}\""
        : AdvertisedAddress is { } a && !System.Net.IPAddress.TryParse(a, out _) ? $"Rollout:AdvertisedAddress must be an IP address, found \"{a}\""
        : Devices is not ("auto" or "cpu" or "none") ? $"Rollout:Devices must be auto, cpu or none, found \"{Devices}\""
        : SandboxIsolation is not ("full" or "no-cgroups" or "none") ? $"Rollout:SandboxIsolation must be full, no-cgroups or none, found \"{SandboxIsolation}\""
        : WeightTransfer is not ("auto" or "tcp" or "grain") ? $"Rollout:WeightTransfer must be auto, tcp or grain, found \"{WeightTransfer}\""
        : WeightTransferPort is < 0 or > 65535 ? $"Rollout:WeightTransferPort must be a port number or 0, found {WeightTransferPort}"
        : TlsCertificate is { } cert && !File.Exists(cert) ? $"Rollout:TlsCertificate: file not found: {cert}"
        : Redis is { } redis && !ParsesAsRedis(redis, out var why) ? $"Rollout:Redis: not a Redis connection string (\"{redis}\"): {why}"
        : null;

    static bool ParsesAsRedis(string text, out string why)
    {
        try
        {
            var options = StackExchange.Redis.ConfigurationOptions.Parse(text);
            why = options.EndPoints.Count == 0 ? "it names no host:port" : "";
            return options.EndPoints.Count > 0;
        }
        catch (ArgumentException e)
        {
            why = e.Message;
            return false;
        }
    }
}
