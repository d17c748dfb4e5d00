using System.Net;
using System.Net.Sockets;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The test subscriber that plays "down" (WebhookTests' pauses, FaultTests, TracingTests): the counts those tests
/// assert hold only if nothing answers on its port until it listens.
/// </summary>
public sealed class WebhookReceiverTests
{
    [Fact]
    public async Task A_receiver_not_listening_yet_refuses_connections_and_keeps_its_port_from_other_listeners()
    {
        await using var receiver = new WebhookReceiver();

        using (var client = new TcpClient())
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, receiver.Port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        // What a listener started by a parallel test would do if it were handed this port.
        var other = new TcpListener(IPAddress.Loopback, receiver.Port);
        try
        {
            var inUse = Assert.Throws<SocketException>(other.Start);
            Assert.Equal(SocketError.AddressAlreadyInUse, inUse.SocketErrorCode);
        }
        finally
        {
            other.Stop();
        }

        await receiver.ListenAsync();
        using var connected = new TcpClient();
        await connected.ConnectAsync(IPAddress.Loopback, receiver.Port);
    }
}
