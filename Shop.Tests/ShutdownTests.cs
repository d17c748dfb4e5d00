using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A service told to stop (SIGTERM, as a container runtime, Kubernetes or systemd stops it) while it works: the
/// service's own process is signalled, left to exit by itself, and started again. These run alone, since they take
/// Orders away for a while; not beside the scaled-out app, which they do not need (its boot alone outlasted five minutes
/// on a loaded machine).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class ShutdownTests(ShopApp shop)
{
    /// <summary>
    /// A service told to stop while Redis is up logs no exception: StackExchange.Redis logged the connection it closes
    /// itself (QUIT) as a SocketClosed RedisConnectionException, at Information, on every stop of every service.
    /// </summary>
    [Fact]
    public async Task A_service_told_to_stop_logs_no_exception()
    {
        var signalledAt = DateTimeOffset.UtcNow;
        var pid = await shop.TerminateAsync("orders");
        DateTimeOffset restartedAt;
        try
        {
            await shop.WaitUntilExitedAsync("orders", pid);
        }
        finally
        {
            restartedAt = DateTimeOffset.UtcNow;
            await shop.StartAndWaitHealthyAsync("orders");
        }
        // The new process's lines come after the old one's last: once they are kept, the stop's are all there.
        var kept = await Eventually.ReadUntilAsync(() => shop.LogLinesAsync("orders", restartedAt, DateTimeOffset.UtcNow),
            lines => lines.Any(l => l.Contains("Now listening on", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.Contains(kept, l => l.Contains("Now listening on", StringComparison.Ordinal));

        var stop = await shop.LogLinesAsync("orders", signalledAt, restartedAt);
        Assert.Contains(stop, l => l.Contains("Application is shutting down", StringComparison.Ordinal));
        var exceptions = stop.Where(l => l.Contains("Exception", StringComparison.Ordinal) || l.Contains("SocketClosed", StringComparison.Ordinal)).ToList();
        Assert.True(exceptions.Count == 0, "a normal stop of Orders logged an exception:\n" + string.Join("\n", stop));
    }
}
