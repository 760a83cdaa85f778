using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace RolloutCluster.Silo;

/// <summary>
/// Silo-to-silo and client-to-gateway TLS with one cluster certificate: every side presents it and
/// accepts only a peer presenting the same one (by thumbprint), so self-signed certificates work
/// without a CA and nothing else can join.
/// </summary>
public static class ClusterTls
{
    public static X509Certificate2 Load(string path, string? password) => X509CertificateLoader.LoadPkcs12FromFile(path, password);

    public static void Configure(TlsOptions options, X509Certificate2 own)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (certificate, _, _) => certificate is not null && certificate.Thumbprint == own.Thumbprint;
    }
}
