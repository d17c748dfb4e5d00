using Npgsql;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Idempotency keys live 24 hours and finished webhook deliveries 14 days (the
/// defaults), then background jobs purge them. Old rows are written straight into the Orders database
/// (time cannot be waited out in a test); the fixture sweeps every second.
/// </summary>
public sealed class RetentionTests(ShopApp shop)
{
    [Fact]
    public async Task Idempotency_keys_older_than_a_day_are_purged_and_younger_ones_kept()
    {
        var userId = Random.Shared.Next(10_000_000, int.MaxValue);
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        foreach (var (key, age) in new[] { ("old-1", "25 hours"), ("old-2", "3 days"), ("young", "23 hours") })
        {
            await Sql.ExecuteAsync(db, $$"""
                INSERT INTO idempotency_keys (user_id, key, request_hash, order_id, state, response_status, response_body, created_at, updated_at)
                VALUES (@user, @key, 'h', gen_random_uuid(), 'completed', 201, '{}', now() - interval '{{age}}', now() - interval '{{age}}')
                """, ("user", userId), ("key", key));
        }

        await WaitUntilAsync(db, "SELECT count(*) FROM idempotency_keys WHERE user_id = @user AND key LIKE 'old-%'", 0, ("user", userId));
        Assert.Equal(1L, await Sql.ScalarAsync(db, "SELECT count(*) FROM idempotency_keys WHERE user_id = @user AND key = 'young'", ("user", userId)));
        await Sql.ExecuteAsync(db, "DELETE FROM idempotency_keys WHERE user_id = @user", ("user", userId));
    }

    [Fact]
    public async Task Finished_webhook_deliveries_older_than_the_retention_are_purged_and_pending_ones_never()
    {
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, "http://127.0.0.1:9/retention", "order.created");
        try
        {
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            var rows = new[] { ("delivered", "15 days"), ("failed", "20 days"), ("pending", "20 days"), ("delivered", "13 days") };
            foreach (var (status, age) in rows)
            {
                await Sql.ExecuteAsync(db, $$"""
                    INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_id, payload, status, attempts,
                        next_attempt_at, delivered_at, created_at)
                    VALUES (@hook, gen_random_uuid(), 'order.created', gen_random_uuid(), '{}', '{{status}}', 1,
                        now() + interval '1 day', now() - interval '{{age}}', now() - interval '{{age}}')
                    """, ("hook", Guid.Parse(hookId)));
            }

            await WaitUntilAsync(db, "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = @hook AND status <> 'pending' AND created_at < now() - interval '14 days'", 0,
                ("hook", Guid.Parse(hookId)));
            // Only the rows written above (days old): orders placed by parallel tests also queue fresh
            // deliveries to this subscription while it exists.
            Assert.Equal(1L, await Sql.ScalarAsync(db, "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = @hook AND status = 'pending' AND created_at < now() - interval '1 day'", ("hook", Guid.Parse(hookId))));
            Assert.Equal(1L, await Sql.ScalarAsync(db, "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = @hook AND status = 'delivered' AND created_at < now() - interval '1 day'", ("hook", Guid.Parse(hookId))));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    private static async Task WaitUntilAsync(NpgsqlConnection db, string countSql, long expected, params (string Name, object Value)[] parameters)
    {
        var count = await Eventually.ReadUntilAsync(() => Sql.ScalarAsync(db, countSql, parameters), n => n == expected, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));
        Assert.True(count == expected, $"still {count} rows (expected {expected}) after 20 s: {countSql}");
    }
}
