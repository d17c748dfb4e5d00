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
        var stampKey = $"auth:stamp:{account.Id}";
        var cachedStamp = await redis.GetDatabase(0).StringGetAsync(stampKey);
        Assert.True(cachedStamp.HasValue, $"no {stampKey} in Redis after a signed-in request: the test no longer matches where the stamps are kept");

        await WhileRedisIsFullAsync(redis, async () =>
        {
            var from = DateTimeOffset.UtcNow;

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
            await ExpectNoErrorLoggedSinceAsync(from);
        });
    }

    /// <summary>
    /// A signed-out session's access tokens end at once through a marker in Redis, which a full Redis refuses to
    /// store. Users then raises the account's stamp instead: the signed-out token is refused everywhere, and the
    /// account's other sessions go on with a refresh.
    /// </summary>
    [Fact]
    public async Task A_full_Redis_still_ends_the_access_tokens_of_a_signed_out_session()
    {
        var (_, account) = await shop.NewUserAsync();
        var (signedOut, _) = await shop.Client().SignInAsync(account.Email, account.Password);
        var (_, otherRefresh) = await shop.Client().SignInAsync(account.Email, account.Password);
        await (await shop.Client(signedOut).GetAsync("/orders/")).ExpectAsync(200);

        await using var redis = await shop.ConnectRedisAsync(",allowAdmin=true");
        await WhileRedisIsFullAsync(redis, async () =>
        {
            var from = DateTimeOffset.UtcNow;
            await (await shop.Client(signedOut).PostJsonAsync("/users/logout", null)).ExpectAsync(204);

            // Before, the marker's write was refused and the token went on working until it expired (up to 15 minutes).
            await (await shop.Client(signedOut).GetAsync("/orders/")).ExpectProblemAsync(401);
            await (await shop.Client(signedOut).GetAsync("/inventory/")).ExpectProblemAsync(401);
            await (await shop.Client(signedOut).GetAsync("/users/me")).ExpectProblemAsync(401);

            var refreshed = await shop.Client().RefreshAsync(otherRefresh);
            await refreshed.ExpectAsync(200);
            var otherAccess = (await refreshed.JsonAsync()).GetProperty("access_token").GetString()!;
            await (await shop.Client(otherAccess).GetAsync("/orders/")).ExpectAsync(200);
            await ExpectNoErrorLoggedSinceAsync(from);
        });
    }

    /// <summary>Runs <paramref name="body"/> with the shared app's Redis full: it refuses writes, and still reads and deletes.</summary>
    private static async Task WhileRedisIsFullAsync(ConnectionMultiplexer redis, Func<Task> body)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var previousMaxMemory = (await server.ConfigGetAsync("maxmemory")).Single().Value;
        var usedMemory = long.Parse((await server.InfoAsync("memory")).SelectMany(g => g).Single(kv => kv.Key == "used_memory").Value, CultureInfo.InvariantCulture);
        try
        {
            // Below what Redis holds, so it is full now whatever the clients' buffers do meanwhile (a limit just
            // above would take the next few small writes before refusing).
            await server.ConfigSetAsync("maxmemory", (usedMemory * 3 / 4).ToString(CultureInfo.InvariantCulture));
            var refused = await Assert.ThrowsAsync<RedisServerException>(() => redis.GetDatabase(7).StringSetAsync("redis-full-probe", "x"));
            Assert.StartsWith("OOM", refused.Message);
            await body();
        }
        finally
        {
            await server.ConfigSetAsync("maxmemory", previousMaxMemory);
        }
    }

    private async Task ExpectNoErrorLoggedSinceAsync(DateTimeOffset from)
    {
        var errors = await shop.ErrorEntriesAsync(ShopAppHost.ServiceNames, from);
        Assert.True(errors.Count == 0, $"logged as errors while Redis was full:\n{string.Join("\n", errors.Take(5))}");
    }
}
