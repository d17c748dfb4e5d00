using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.ServiceDefaults;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A service is ready for Redis before it listens. A sign-in among the first burst of requests to a
/// freshly started stack was refused as uncounted (503): Users had no answer from Redis within the client's
/// 1 s timeout, most likely a cold client's first calls on a busy machine (a cold process took up to 1.6 s
/// just to connect here, docs/performance.md Round 19). So a starting service waits until Redis has
/// answered it and holds every script it runs (even a first call is then a warm one that sends a hash),
/// for at most <see cref="RedisStartupOptions.ReadyWithin"/>; past that it starts anyway and serves from
/// its database. Each test starts the services' own Redis set-up (<see cref="ShopRedisExtensions.AddShopRedis"/>)
/// against the app's real Redis through a fault proxy that holds Redis' replies back, as a Redis too busy
/// to answer, or a client too starved to read its answers, would look.
/// </summary>
public sealed class RedisStartupTests(ShopApp shop)
{
    [Fact]
    public async Task A_service_listens_only_once_Redis_has_answered_it_and_holds_its_scripts()
    {
        // A script no other test or service runs, so Redis cannot hold it from anywhere else.
        var script = $"return '{Guid.NewGuid():N}'";
        var (proxy, connectionString) = await shop.RedisThroughProxyAsync();
        await using var _ = proxy;
        proxy.HoldReplies();
        using var host = Service(connectionString, builder => builder.Services.AddRedisScripts(script));
        var start = host.StartAsync(TestContext.Current.CancellationToken);

        // Longer than the client's connect timeout (2 s), where the start-up used to stop waiting.
        await Task.WhenAny(start, Task.Delay(TimeSpan.FromSeconds(4), TestContext.Current.CancellationToken));
        Assert.False(start.IsCompleted, "the service finished starting while Redis had not answered it");

        proxy.ReleaseReplies();
        await start.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await using var redis = await shop.ConnectRedisAsync();
        var hash = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(script)));
        var exists = (long[])(await redis.GetDatabase().ExecuteAsync("SCRIPT", "EXISTS", hash))!;
        Assert.True(exists[0] == 1, "the service started without loading its script into Redis");
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_service_whose_Redis_never_answers_starts_once_its_wait_is_over()
    {
        var (proxy, connectionString) = await shop.RedisThroughProxyAsync();
        await using var _ = proxy;
        proxy.HoldReplies();
        using var host = Service(connectionString, builder => builder.Configuration["Redis:ReadyWithin"] = "00:00:03");

        // Well under the default wait (15 s): the setting is what ends it.
        await host.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        proxy.ReleaseReplies();
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A host with the services' Redis set-up, connecting with <paramref name="connectionString"/>.</summary>
    internal static IHost Service(string connectionString, Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration["ConnectionStrings:redis"] = connectionString;
        configure(builder);
        builder.AddShopRedis(databaseIndex: 7);
        return builder.Build();
    }
}
