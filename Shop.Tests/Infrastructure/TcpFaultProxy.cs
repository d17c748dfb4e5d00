using System.Net;
using System.Net.Sockets;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a real server (the app's Redis, PostgreSQL) that can break a connection
/// the way a crashing server does: the next bytes a client sends are not forwarded, and the client's
/// socket is closed with an RST, so a command already written meets "connection reset by peer" on
/// its read instead of an orderly end of stream.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private int _resetOnNextSend;
    private TaskCompletionSource _repliesFlow = Completed();

    private TcpFaultProxy(string upstreamHost, int upstreamPort)
    {
        _upstreamHost = upstreamHost;
        _upstreamPort = upstreamPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    /// <param name="upstream">host:port of the real server.</param>
    public static TcpFaultProxy Start(string upstream)
    {
        var colon = upstream.LastIndexOf(':');
        return new TcpFaultProxy(upstream[..colon], int.Parse(upstream[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>The next client connection to send anything is reset instead of having it forwarded.</summary>
    public void ResetOnNextSend() => Volatile.Write(ref _resetOnNextSend, 1);

    public bool ResetPending => Volatile.Read(ref _resetOnNextSend) == 1;

    /// <summary>
    /// Every connection open now is closed with an RST on both sides, as a crashed server or a dropped network path
    /// leaves them; new connections are still forwarded.
    /// </summary>
    public void ResetAll()
    {
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                }
                socket.Dispose();
            }
            _sockets.Clear();
        }
    }

    /// <summary>A reset asked for and not yet done is not done.</summary>
    public void CancelReset() => Volatile.Write(ref _resetOnNextSend, 0);

    /// <summary>
    /// From now on the server's bytes are held, not forwarded, until <see cref="ReleaseReplies"/>: the
    /// connection stays open and every command stays unanswered, as with a server that stalls.
    /// </summary>
    public void HoldReplies() => Volatile.Write(ref _repliesFlow, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void ReleaseReplies() => Volatile.Read(ref _repliesFlow).TrySetResult();

    private static TaskCompletionSource Completed()
    {
        var flowing = new TaskCompletionSource();
        flowing.SetResult();
        return flowing;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
                }
                catch (SocketException)
                {
                    // The server is away: the client sees its connection refused-and-closed, as it would directly.
                    client.Dispose();
                    upstream.Dispose();
                    continue;
                }
                lock (_sockets)
                {
                    _sockets.Add(client);
                    _sockets.Add(upstream);
                }
                _ = PumpAsync(client, upstream, fromClient: true);
                _ = PumpAsync(upstream, client, fromClient: false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                if (fromClient && Interlocked.Exchange(ref _resetOnNextSend, 0) == 1)
                {
                    from.LingerState = new LingerOption(true, 0); // close with RST, not FIN
                    from.Close();
                    to.Close();
                    return;
                }
                if (!fromClient)
                {
                    await Volatile.Read(ref _repliesFlow).Task.WaitAsync(_stop.Token);
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        ReleaseReplies();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }
        return ValueTask.CompletedTask;
    }
}
