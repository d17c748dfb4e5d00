using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// Stands in for a stopped service on its port (127.0.0.1 and ::1): reads each request's head, records its request line
/// (e.g. <c>POST /internal/reservations/ HTTP/1.1</c>) and resets the connection unanswered, so every try a caller makes
/// fails at once and is counted by what it asked for (the gateway's health probes ask for something else). Dispose it
/// before the service starts again: it holds the port.
/// </summary>
public sealed class HangUpListener : IAsyncDisposable
{
    private readonly List<TcpListener> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _accepting = [];

    public HangUpListener(int port)
    {
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            var listener = new TcpListener(address, port);
            try
            {
                listener.Start();
            }
            catch (SocketException) when (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                continue; // no IPv6 loopback here: callers reach 127.0.0.1
            }
            _listeners.Add(listener);
            _accepting.Add(AcceptAsync(listener));
        }
    }

    /// <summary>The request line of each request received, in order.</summary>
    public ConcurrentQueue<string> RequestLines { get; } = new();

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = HangUpAsync(socket);
        }
    }

    private async Task HangUpAsync(Socket socket)
    {
        using var _ = socket;
        var head = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }
                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
        }
        var text = head.ToString();
        if (text.Length > 0)
        {
            var end = text.IndexOf("\r\n", StringComparison.Ordinal);
            RequestLines.Enqueue(end >= 0 ? text[..end] : text);
        }
        socket.LingerState = new LingerOption(true, 0); // closed with an RST, as a crashed server's socket
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }
        await Task.WhenAll(_accepting);
        _stop.Dispose();
    }
}
