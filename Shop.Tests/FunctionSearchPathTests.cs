using Npgsql;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Orders' and Inventory's functions, written by their migrations, run in a session whose search_path leaves out
/// <c>public</c> (a role's or a pooler's setting): a trigger runs inside whatever session writes its table, and a
/// function's body is resolved with its caller's search_path unless it names its schema. Each test writes through
/// <c>public.</c> names (or calls <c>public.&lt;function&gt;</c>) under <c>search_path = pg_catalog</c> in a
/// transaction it rolls back, as SecurityStampPublicationTests does for Users' stamp trigger.
/// </summary>
public sealed class FunctionSearchPathTests(ShopApp shop)
{
    /// <summary><c>count_pending_orders</c>, the trigger on <c>orders</c> that keeps each user's pending count.</summary>
    [Fact]
    public async Task A_pending_order_written_under_another_search_path_is_counted()
    {
        var (_, user) = await shop.NewUserAsync();
        var counted = await WithoutPublicAsync("ordersdb", async db =>
        {
            await Sql.ExecuteAsync(db, """
                INSERT INTO public.orders (id, user_id, total, status, items, created_at, updated_at, expires_at)
                VALUES (gen_random_uuid(), @user, 10.00, 'pending', '[]'::jsonb, now(), now(), now() + interval '30 minutes')
                """, ("user", user.Id));
            return await Sql.ScalarAsync(db, "SELECT pending FROM public.pending_order_counts WHERE user_id = @user", ("user", user.Id));
        });
        Assert.Equal(1, counted);
    }

    /// <summary>
    /// <c>store_order</c>, which the placement calls, and what it calls: <c>take_stock_release_guard</c>,
    /// <c>add_webhook_outbox_rows</c> and, through the insert, the pending-count trigger.
    /// </summary>
    [Fact]
    public async Task An_order_stored_under_another_search_path_is_stored_and_counted()
    {
        var (_, user) = await shop.NewUserAsync();
        var orderId = Guid.NewGuid();
        var stored = await WithoutPublicAsync("ordersdb", async db =>
        {
            await Sql.ExecuteAsync(db, """
                INSERT INTO public.stock_releases (order_id, due_at, attempts, created_at) VALUES (@order, now() + interval '1 hour', 0, now());
                SELECT public.store_order(@order, @user, 'pending', 40, '[]'::jsonb, now(), now() + interval '30 minutes',
                    'created', 'Order placed: 1 line(s), total 40.00', 'order.created', gen_random_uuid(), '{}',
                    NULL, NULL, NULL);
                """, ("order", orderId), ("user", user.Id));
            return await Sql.ScalarAsync(db, """
                SELECT count(*) FROM public.orders o
                JOIN public.order_events e ON e.order_id = o.id AND e.event_type = 'created'
                JOIN public.pending_order_counts c ON c.user_id = o.user_id AND c.pending = 1
                WHERE o.id = @order AND NOT EXISTS (SELECT 1 FROM public.stock_releases r WHERE r.order_id = o.id)
                """, ("order", orderId));
        });
        Assert.Equal(1, stored);
    }

    /// <summary><c>delete_stock_release</c>, which a refused placement calls to drop its order's guard.</summary>
    [Fact]
    public async Task A_release_guard_deleted_under_another_search_path_is_gone()
    {
        var orderId = Guid.NewGuid();
        var (deleted, left) = await WithoutPublicAsync("ordersdb", async db =>
        {
            await Sql.ExecuteAsync(db,
                "INSERT INTO public.stock_releases (order_id, due_at, attempts, created_at) VALUES (@order, now() + interval '1 hour', 0, now())",
                ("order", orderId));
            return (await Sql.ScalarAsync(db, "SELECT public.delete_stock_release(@order)::int", ("order", orderId)),
                await Sql.ScalarAsync(db, "SELECT count(*) FROM public.stock_releases WHERE order_id = @order", ("order", orderId)));
        });
        Assert.Equal((1L, 0L), (deleted, left));
    }

    /// <summary>
    /// <c>claim_webhook_deliveries</c>, a lane's claim. The subscription and its delivery are never committed, so no
    /// dispatcher sees them.
    /// </summary>
    [Fact]
    public async Task A_webhook_claim_under_another_search_path_takes_its_due_row()
    {
        var subscriptionId = Guid.NewGuid();
        var claimed = await WithoutPublicAsync("ordersdb", async db =>
        {
            await Sql.ExecuteAsync(db, """
                INSERT INTO public.webhook_subscriptions (id, url, events, is_active, secret, created_at, unavailable_streak)
                VALUES (@subscription, 'http://127.0.0.1:9/hook', ARRAY['order.created'], false, 'search-path-test', now(), 0);
                INSERT INTO public.webhook_deliveries (subscription_id, event_id, event_type, order_id, payload, status, attempts, next_attempt_at, created_at)
                VALUES (@subscription, gen_random_uuid(), 'order.created', gen_random_uuid(), '{}', 'pending', 0, now() - interval '1 second', now());
                """, ("subscription", subscriptionId));
            return await Sql.ScalarAsync(db,
                "SELECT count(*) FROM public.claim_webhook_deliveries(@subscription, 5, now() + interval '1 minute') WHERE leased_until IS NOT NULL",
                ("subscription", subscriptionId));
        });
        Assert.Equal(1, claimed);
    }

    /// <summary><c>reserve_stock</c>, Inventory's reservation.</summary>
    [Fact]
    public async Task A_reservation_under_another_search_path_takes_the_stock()
    {
        var sku = await shop.NewItemAsync(qty: 5);
        var orderId = Guid.NewGuid();
        var (reserved, recorded) = await WithoutPublicAsync("inventorydb", async db =>
            (await Sql.ScalarAsync(db,
                "SELECT count(*) FROM public.reserve_stock(@order, ARRAY[@sku], ARRAY[2]) r WHERE r.outcome = 'reserved' AND r.available = 3",
                ("order", orderId), ("sku", sku)),
            await Sql.ScalarAsync(db, """
                SELECT count(*) FROM public.reservation_lines l JOIN public.inventory i ON i.id = l.item_id
                WHERE l.order_id = @order AND i.sku = @sku AND l.qty = 2 AND i.qty = 3
                """, ("order", orderId), ("sku", sku))));
        Assert.Equal((1L, 1L), (reserved, recorded));
    }

    /// <summary>
    /// <paramref name="work"/> on <paramref name="database"/> in a transaction whose search_path is pg_catalog alone
    /// (<c>public</c> left out), rolled back afterwards; what it read.
    /// </summary>
    private async Task<T> WithoutPublicAsync<T>(string database, Func<NpgsqlConnection, Task<T>> work)
    {
        await using var db = await shop.OpenDatabaseAsync(database);
        await using var tx = await db.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await Sql.ExecuteAsync(db, "SET LOCAL search_path = pg_catalog");
        var result = await work(db);
        await tx.RollbackAsync(TestContext.Current.CancellationToken);
        return result;
    }
}
