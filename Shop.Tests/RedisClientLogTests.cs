using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// What the services' Redis client (<see cref="Shop.ServiceDefaults.ShopRedisExtensions.AddShopRedis"/>) logs about its
/// connection. StackExchange.Redis logs the connection it closes itself when the service stops (QUIT) with a
/// RedisConnectionException attached: an operator saw an exception on every deploy. A connection Redis breaks while the
/// service runs is an outage, and must still be logged as one (Warning or above, with what broke it).
/// </summary>
public sealed class RedisClientLogTests(ShopApp shop)
{
    [Fact(Timeout = 120_000)]
    public async Task A_connection_broken_while_running_is_logged_as_a_failure_and_a_normal_stop_logs_no_exception()
    {
        var (proxy, connectionString) = await shop.RedisThroughProxyAsync();
        await using var _ = proxy;
        var logs = new CapturedLogs();
        using var host = ServiceLoggingTo(logs, connectionString);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var redis = host.Services.GetRequiredService<IConnectionMultiplexer>();

        proxy.ResetOnNextSend();
        await Assert.ThrowsAnyAsync<Exception>(() => redis.GetDatabase().PingAsync());
        var failure = await Eventually.ReadUntilAsync(() => Task.FromResult(logs.Entries.FirstOrDefault(e => e.Level >= LogLevel.Warning && e.Exception is not null)),
            e => e is not null, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        Assert.True(failure is not null, "a connection Redis reset while the service ran was not logged as a Warning or above:\n" + logs);
        var reconnected = await Eventually.ReadUntilAsync(() => Task.FromResult(redis.IsConnected), c => c, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        Assert.True(reconnected, "the client did not connect again after the reset");

        var stopping = logs.Entries.Count;
        await host.StopAsync(TestContext.Current.CancellationToken);
        host.Dispose(); // the multiplexer closes its connections (QUIT) when the container is disposed
        var atStop = logs.Entries.Skip(stopping).Where(e => e.Exception is not null || e.Message.Contains("SocketClosed", StringComparison.Ordinal)).ToList();
        Assert.True(atStop.Count == 0, "a normal stop logged an exception:\n" + string.Join("\n", atStop));
    }

    /// <summary>
    /// StackExchange.Redis narrates every connect at Information (its configuration, each endpoint, "Connecting…", the
    /// tie-breaker, the server's version…): about fifty lines on every start of every service, that an operator read past
    /// to find anything that mattered. A normal start says at most a few lines at Information from the client.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task A_normal_start_logs_only_a_few_information_lines_from_the_redis_client()
    {
        var (proxy, connectionString) = await shop.RedisThroughProxyAsync();
        await using var _ = proxy;
        var logs = new CapturedLogs();
        using var host = ServiceLoggingTo(logs, connectionString);
        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        var fromClient = logs.Entries.Where(e => e.Category.StartsWith("StackExchange.Redis", StringComparison.Ordinal) && e.Level >= LogLevel.Information).ToList();
        Assert.True(fromClient.Count <= MostClientLinesAtStart,
            $"a normal start logged {fromClient.Count} Information (or higher) lines from the Redis client:\n" + string.Join("\n", fromClient));
    }

    private const int MostClientLinesAtStart = 3;

    /// <summary>A service on <paramref name="connectionString"/> whose every entry at Information or above goes to <paramref name="logs"/>.</summary>
    private static IHost ServiceLoggingTo(CapturedLogs logs, string connectionString) =>
        RedisStartupTests.Service(connectionString, builder => builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information));

    private sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}[{EventId.Id}]: {Message}{(Exception is null ? "" : "\n  " + Exception.GetType().Name + ": " + Exception.Message)}";
    }

    /// <summary>Every entry the host logs, in order.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<Entry> _entries = new();

        public IReadOnlyList<Entry> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        public override string ToString() => string.Join("\n", _entries);

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
        }
    }
}
