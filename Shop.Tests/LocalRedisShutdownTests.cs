using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Shop.AppHost.Infrastructure;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Run mode's Redis (a local process, <see cref="LocalRedisBuilderExtensions"/>) started with the AppHost's own arguments:
/// no AppHost, only the server.
/// </summary>
public sealed class LocalRedisShutdownTests
{
    /// <summary>
    /// A server whose final save fails refused to exit on SIGTERM ("Error trying to save the DB, can't exit") and ran on
    /// for good, its port and memory held, after the AppHost that started it had gone: one was found so, its ephemeral
    /// data directory deleted by the test run that made it.
    /// </summary>
    [Fact]
    public async Task A_server_whose_final_save_fails_still_exits_when_stopped()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("shop-redis-shutdown-").FullName;
        var port = LoopbackPort.Free();
        var info = new ProcessStartInfo(LocalRedisBuilderExtensions.ServerCommand) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--port", port.ToString(), "--bind", "127.0.0.1", .. LocalRedisBuilderExtensions.ServerArguments(dataDirectory)])
        {
            info.ArgumentList.Add(arg);
        }
        using var server = Process.Start(info)!;
        var output = Task.WhenAll(server.StandardOutput.ReadToEndAsync(ct), server.StandardError.ReadToEndAsync(ct));
        try
        {
            // Something to save, written once the server answers.
            using (var client = await ConnectAsync(port, ct))
            {
                var stream = client.GetStream();
                await stream.WriteAsync("SET shutdown-test 1\r\n"u8.ToArray(), ct);
                var answer = new byte[16];
                Assert.Equal("+OK", System.Text.Encoding.ASCII.GetString(answer, 0, await stream.ReadAsync(answer, ct)).TrimEnd());
            }
            Directory.Delete(dataDirectory, recursive: true);

            Process.Start("kill", ["-TERM", server.Id.ToString()])!.WaitForExit();
            // A bound for the test, not a timing: a server that refuses to exit never does.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(TimeSpan.FromSeconds(30));
            var exited = await server.WaitForExitAsync(bound.Token).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            Assert.True(exited, "redis-server did not exit 30 s after SIGTERM once its data directory was gone");
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
            var said = string.Join("\n", await output);
            TestContext.Current.TestOutputHelper?.WriteLine(said);
        }
    }

    /// <summary>A connection to the server once it listens (it takes a moment after its start); 30 s at most.</summary>
    private static async Task<TcpClient> ConnectAsync(int port, CancellationToken ct)
    {
        var (client, refused) = await Eventually.ReadUntilAsync(async () =>
        {
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, ct);
                return (Client: (TcpClient?)client, Refused: (SocketException?)null);
            }
            catch (SocketException e)
            {
                client.Dispose();
                return (Client: null, Refused: e);
            }
        }, answer => answer.Client is not null, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        return client ?? throw new InvalidOperationException($"redis-server did not take a connection on port {port} within 30 s: {refused?.Message}", refused);
    }
}
