using Microsoft.AspNetCore.Http.Json;
using Shop.ServiceDefaults;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Against the app's real Redis: a read that loaded a row before a change
/// must not write it into the cache after the change's invalidation (Users caches accounts this way;
/// a just-deactivated account would read as active until the entry's TTL).
/// </summary>
public sealed class CacheStaleWriteTests(ShopApp shop)
{
    private sealed record Account(string State);

    [Fact]
    public async Task A_load_that_started_before_an_invalidation_does_not_fill_the_cache_after_it()
    {
        await using var redis = await shop.ConnectRedisAsync(",defaultDatabase=7");
        var cache = new CacheStore(redis, Options.Create(new JsonOptions()), NullLogger<CacheStore>.Instance);
        var key = "test-account:" + Guid.NewGuid().ToString("N");

        var loading = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        // A reader misses the cache and loads the row as it was ("active")...
        var slowRead = cache.GetOrLoadAsync(key, TimeSpan.FromMinutes(5), async _ =>
        {
            loading.SetResult();
            await release.Task;
            return new Account("active");
        }, CancellationToken.None);
        await loading.Task;
        // ...meanwhile the row changes and the writer invalidates the key...
        await cache.InvalidateAsync(key);
        // ...then the slow reader finishes with its old row.
        release.SetResult();
        Assert.Equal("active", (await slowRead)!.State);

        var next = await cache.GetOrLoadAsync(key, TimeSpan.FromMinutes(5), _ => Task.FromResult<Account?>(new Account("deactivated")), CancellationToken.None);
        Assert.Equal("deactivated", next!.State);
    }
}
