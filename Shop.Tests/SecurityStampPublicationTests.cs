using System.Net;
using Shop.ServiceDefaults;
using Shop.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A raised security stamp that Redis took neither the write nor the delete of. Redis here refuses every write
/// (<c>min-replicas-to-write</c> with no replica: "NOREPLICAS", as a read-only replica after a failover or a Redis
/// whose disk failed answers) and still answers reads with the account's older stamp. Users keeps publishing the
/// new stamp until Redis takes it; these tests check that it does not forget it when it restarts meanwhile, and
/// that it does not accept the older tokens itself while Redis holds the older stamp. Exclusive: the shared app's
/// Redis refuses every service's writes for a while, and Users is restarted.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class SecurityStampPublicationTests(ShopApp shop)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The other services can only compare with what Redis answers, but Users knows the stamp it raised: it must not
    /// accept a token older than that because Redis still holds the older stamp.
    /// </summary>
    [Fact]
    public async Task Users_refuses_a_token_older_than_the_stamp_it_could_not_publish_yet()
    {
        var (user, account) = await shop.NewUserAsync();
        await (await user.GetAsync("/orders/")).ExpectAsync(200);
        await using var redis = await shop.ConnectRedisAsync(",allowAdmin=true");

        await WhileRedisRefusesWritesAsync(redis, async () =>
        {
            await (await user.PostJsonAsync("/users/logout-everywhere", null)).ExpectAsync(204);
            Assert.Equal(1, (int)await redis.GetDatabase(SecurityStamps.RedisDatabase).StringGetAsync(StampKey(account.Id)));

            var atUsers = await user.GetAsync("/users/me");
            Assert.True(atUsers.StatusCode == HttpStatusCode.Unauthorized,
                $"Users answered {(int)atUsers.StatusCode} to the token signed out everywhere, while Redis still held its older stamp");
        });
        var atOrders = await OrdersAnswerAsync(user);
        Assert.True(atOrders == HttpStatusCode.Unauthorized,
            $"Orders answered {(int)atOrders} to the token signed out everywhere, {Patience.TotalSeconds} s after Redis took writes again");
    }

    /// <summary>
    /// The stamp Redis did not take lived only in the memory of the Users process that raised it: a restart before
    /// Redis took writes again forgot it, Redis kept the older stamp, and every service accepted the account's
    /// signed-out tokens against it until they expired.
    /// </summary>
    [Fact]
    public async Task A_stamp_Redis_did_not_take_reaches_it_after_Users_restarts()
    {
        var (user, account) = await shop.NewUserAsync();
        await (await user.GetAsync("/orders/")).ExpectAsync(200);
        await using var redis = await shop.ConnectRedisAsync(",allowAdmin=true");

        var atUsersAfterRestart = HttpStatusCode.OK;
        await WhileRedisRefusesWritesAsync(redis, async () =>
        {
            await (await user.PostJsonAsync("/users/logout-everywhere", null)).ExpectAsync(204);
            await shop.StopResourceAsync("users");
            await shop.StartAndWaitHealthyAsync("users");
            atUsersAfterRestart = (await user.GetAsync("/users/me")).StatusCode;
        });

        var atOrders = await OrdersAnswerAsync(user);
        var inRedis = await redis.GetDatabase(SecurityStamps.RedisDatabase).StringGetAsync(StampKey(account.Id));
        Assert.True(atOrders == HttpStatusCode.Unauthorized && atUsersAfterRestart == HttpStatusCode.Unauthorized,
            $"the token signed out everywhere before Users restarted: Orders answered {(int)atOrders} {Patience.TotalSeconds} s after Redis took "
            + $"writes again (Redis holds stamp {inRedis}), Users answered {(int)atUsersAfterRestart} after its restart");
    }

    /// <summary>
    /// The trigger that records a raised stamp named its table without a schema, so a session whose search_path leaves
    /// out <c>public</c> (a role's or a pooler's setting, a migration's) could not raise a stamp at all: the raise failed
    /// with "relation unpublished_stamps does not exist". Rolled back: no stamp is raised for Redis to miss.
    /// </summary>
    [Fact]
    public async Task A_stamp_raised_under_another_search_path_is_still_recorded()
    {
        var (_, account) = await shop.NewUserAsync();
        await using var db = await shop.OpenDatabaseAsync("usersdb");
        await using var tx = await db.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await Sql.ExecuteAsync(db, """
            SET LOCAL search_path = pg_catalog;
            UPDATE public.users SET security_stamp = security_stamp + 1 WHERE id = @id;
            """, ("id", account.Id));
        var recorded = await Sql.ScalarAsync(db, """
            SELECT count(*) FROM public.unpublished_stamps s JOIN public.users u ON u.id = s.user_id
            WHERE s.user_id = @id AND s.stamp = u.security_stamp
            """, ("id", account.Id));
        await tx.RollbackAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, recorded);
    }

    private static string StampKey(int userId) => $"auth:stamp:{userId}";

    /// <summary>What Orders answers the token once it refuses it, or at the end of the patience.</summary>
    private static Task<HttpStatusCode> OrdersAnswerAsync(ShopClient user) =>
        Eventually.ReadUntilAsync(async () => (await user.GetAsync("/orders/")).StatusCode,
            s => s == HttpStatusCode.Unauthorized, Patience, TimeSpan.FromMilliseconds(500));

    /// <summary>
    /// Runs <paramref name="body"/> while the shared app's Redis refuses every write, the delete of a key included,
    /// and still answers reads: it wants a replica to write to, and has none.
    /// </summary>
    private static async Task WhileRedisRefusesWritesAsync(ConnectionMultiplexer redis, Func<Task> body)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var before = (await server.ConfigGetAsync("min-replicas-to-write")).Single().Value;
        try
        {
            await server.ConfigSetAsync("min-replicas-to-write", "1");
            var refused = await Assert.ThrowsAsync<RedisServerException>(() => redis.GetDatabase(7).KeyDeleteAsync("redis-refusing-probe"));
            Assert.StartsWith("NOREPLICAS", refused.Message);
            await body();
        }
        finally
        {
            await server.ConfigSetAsync("min-replicas-to-write", before);
        }
    }
}
