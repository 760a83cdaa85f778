using System.Net;
using System.Net.Sockets;

namespace RolloutCluster.Silo;

/// <summary>Free TCP ports on 127.0.0.1, for silos embedded in a process (so runs and tests do not collide).</summary>
public static class LoopbackPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether something already listens on port (checked by binding it for a moment).</summary>
    public static bool InUse(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse) { return true; }
    }
}
