using System.Net;
using System.Net.Sockets;

namespace Shop.Tests.Infrastructure;

internal static class LoopbackPort
{
    /// <summary>A loopback port nothing listens on now (any listener may take it later: bind it at once).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
