using System.Net.Sockets;
using System.Text;

namespace Shop.Tests.Infrastructure;

/// <summary>HTTP/1.1 as bytes on a socket: requests an HTTP client would refuse to send or change on the way.</summary>
public static class RawHttp
{
    /// <summary>
    /// Sends <paramref name="request"/> as it is (end it with <c>Connection: close</c>) and reads the answer to its end,
    /// within 30 s.
    /// </summary>
    public static async Task<string> ExchangeAsync(Uri address, string request)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await new StreamReader(stream).ReadToEndAsync(bound.Token);
    }
}
