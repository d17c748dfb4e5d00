using System.Globalization;
using Shop.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A deployment's Redis runs with <c>--maxmemory</c> and the default noeviction policy: full, it refuses writes
/// ("OOM command not allowed") but still reads and deletes. Alone, because the test makes the shared app's Redis
/// full for a moment, which would fail every other test's writes to it.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class RedisFullTests(ShopApp shop)
{
    /// <summary>
    /// Users cannot write an account's new security stamp into a full Redis. The older stamp must not stay there:
    /// every service would go on accepting the account's old tokens against it until they expire.
    /// </summary>
    [Fact]
    public async Task A_full_Redis_still_ends_the_old_tokens_of_an_account_whose_stamp_rose()
    {
        var admin = await shop.AdminAsync();
        await (await admin.GetAsync("/users/me")).ExpectAsync(200);
        var (user, account) = await shop.NewUserAsync();
        await (await user.GetAsync("/orders/")).ExpectAsync(200);

        await using var redis = await shop.ConnectRedisAsync(",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var stampKey = $"auth:stamp:{account.Id}";
        var cachedStamp = await redis.GetDatabase(0).StringGetAsync(stampKey);
        Assert.True(cachedStamp.HasValue, $"no {stampKey} in Redis after a signed-in request: the test no longer matches where the stamps are kept");

        var previousMaxMemory = (await server.ConfigGetAsync("maxmemory")).Single().Value;
        var usedMemory = long.Parse((await server.InfoAsync("memory")).SelectMany(g => g).Single(kv => kv.Key == "used_memory").Value, CultureInfo.InvariantCulture);
        var from = DateTimeOffset.UtcNow;
        try
        {
            // Below what Redis holds, so it is full now whatever the clients' buffers do meanwhile (a limit just
            // above would take the next few small writes before refusing).
            await server.ConfigSetAsync("maxmemory", (usedMemory * 3 / 4).ToString(CultureInfo.InvariantCulture));
            var refused = await Assert.ThrowsAsync<RedisServerException>(() => redis.GetDatabase(7).StringSetAsync("redis-full-probe", "x"));
            Assert.StartsWith("OOM", refused.Message);

            // The database holds the truth: the change itself succeeds.
            await (await admin.PatchJsonAsync($"/users/{account.Id}", new { role = "admin" })).ExpectAsync(200);

            // The token issued before the change is refused at every service, not only at Users (which reads its database
            // when Redis has no stamp). With the user's old stamp left in Redis, Orders answered 200 and Inventory 403.
            await (await user.GetAsync("/orders/")).ExpectProblemAsync(401);
            await (await user.PostJsonAsync("/inventory/", new { sku = "FULL-" + Guid.NewGuid().ToString("N")[..8], name = "x", price = 1, qty = 1 }))
                .ExpectProblemAsync(401);
            await (await user.GetAsync("/users/me")).ExpectProblemAsync(401);
            Assert.False(await redis.GetDatabase(0).KeyExistsAsync(stampKey), $"{stampKey} is still in Redis");
            var changed = await (await admin.GetAsync($"/users/{account.Id}")).JsonAsync();
            Assert.Equal("admin", changed.GetProperty("role").GetString());

            // Each of these asks Users, fails to refill the full Redis and deletes again: an expected answer, not an error.
            await (await user.GetAsync("/orders/")).ExpectProblemAsync(401);
            await Task.Delay(TimeSpan.FromSeconds(2)); // the console logs reach the files a little later
            var errors = await shop.ErrorEntriesAsync(ShopAppHost.ServiceNames, from, DateTimeOffset.UtcNow);
            Assert.True(errors.Count == 0, $"logged as errors while Redis was full:\n{string.Join("\n", errors.Take(5))}");
        }
        finally
        {
            await server.ConfigSetAsync("maxmemory", previousMaxMemory);
        }
    }
}
