using Npgsql;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The release worker and a store of the same order at the same moment. Alone, because the test holds the
/// worker on a row lock for a moment, which every other release due then would wait behind.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class StockReleaseRaceTests(ShopApp shop)
{
    /// <summary>
    /// A placement's guard falls due while its order is being stored (a placement slower than the guard's delay,
    /// or a retry that took over a crashed request's key). The worker must not give the stock back for an order
    /// that is stored: the store takes the guard in its transaction, and a release must go through the guard too.
    /// Here the store is the guard's deletion and the order's insert in one transaction the test holds open while
    /// the worker reaches the order; before the fix the worker saw no order yet and released its stock.
    /// </summary>
    [Fact]
    public async Task The_worker_never_gives_back_the_stock_of_an_order_being_stored()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (_, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        var orderId = Guid.NewGuid();
        var inventory = shop.ServiceClient("inventory", withServiceKey: true);
        await (await inventory.PostJsonAsync("/internal/reservations/", new { order_id = orderId, items = new[] { new { sku, qty = 4 } } })).ExpectAsync(200);
        Assert.Equal(6, await admin.StockAsync(sku));

        await using var store = await OpenOrdersAsAppAsync();
        await using var other = await OpenOrdersAsAppAsync();
        // The placement's guard, due in a moment.
        await Sql.ExecuteAsync(other, "INSERT INTO stock_releases (order_id, due_at, attempts, created_at) VALUES (@order, clock_timestamp() + interval '2 seconds', 0, now())", ("order", orderId));
        await using (var storing = await store.BeginTransactionAsync())
        {
            Assert.Equal(1, await Sql.ScalarAsync(store, "WITH taken AS (DELETE FROM stock_releases WHERE order_id = @order RETURNING 1) SELECT count(*) FROM taken", ("order", orderId)));
            await Sql.ExecuteAsync(store, """
                INSERT INTO orders (id, user_id, total, status, items, created_at, updated_at, expires_at)
                VALUES (@order, @user, 40, 'pending', '[]', now(), now(), now() + interval '30 minutes')
                """, ("order", orderId), ("user", user.Id));
            await Task.Delay(TimeSpan.FromSeconds(2.5)); // the guard is due now

            // Wake the workers: another guard made due, as a placement that lost Inventory does.
            var wake = Guid.NewGuid();
            await Sql.ExecuteAsync(other, "INSERT INTO stock_releases (order_id, due_at, attempts, created_at) VALUES (@order, now() + interval '2 minutes', 0, now())", ("order", wake));
            await Sql.ExecuteAsync(other, "UPDATE stock_releases SET due_at = clock_timestamp() WHERE order_id = @order", ("order", wake));

            // The worker reaches this order's guard (the earlier due) and waits for the store's row lock.
            await Sql.UntilALockIsAwaitedAsync(other, "the release worker, at the order's guard,", holder: store);
            await storing.CommitAsync();

            // Once the worker's pass is over (the wake-up guard is gone), the stock is still held for the stored order.
            var left = await Eventually.ReadUntilAsync(
                () => Sql.ScalarAsync(other, "SELECT count(*) FROM stock_releases WHERE order_id = @order", ("order", wake)),
                n => n == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
            Assert.Equal(0, left);
        }
        Assert.Equal(6, await admin.StockAsync(sku));
    }

    /// <summary>
    /// The other half of the rule above, on the real <c>store_order</c>: once the release path has marked an
    /// order's guard <c>releasing</c> (StockReleases marks it and commits before it asks Inventory), the store of
    /// that order is refused (migration ReleaseMarkedBeforeTheStockGoesBack) and no order is written.
    /// </summary>
    [Fact]
    public async Task Store_order_refuses_an_order_whose_guard_is_marked_releasing()
    {
        var (_, user) = await shop.NewUserAsync();
        var orderId = Guid.NewGuid();
        await using var db = await OpenOrdersAsAppAsync();
        // Due in an hour, so the worker leaves it to this test; marked as the release path marks it.
        await Sql.ExecuteAsync(db, "INSERT INTO stock_releases (order_id, due_at, attempts, created_at) VALUES (@order, now() + interval '1 hour', 0, now())", ("order", orderId));
        await Sql.ExecuteAsync(db, "UPDATE stock_releases SET releasing = true WHERE order_id = @order", ("order", orderId));
        try
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync(db, """
                SELECT store_order(@order, @user, 'pending', 40, '[]'::jsonb, now(), now() + interval '30 minutes',
                    'created', 'Order placed: 1 line(s), total 40.00', 'order.created', gen_random_uuid(), '{}',
                    NULL, NULL, NULL)
                """, ("order", orderId), ("user", user.Id)));

            Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);
            Assert.Contains("already given back", refused.MessageText);
            Assert.Equal(0, await Sql.ScalarAsync(db, "SELECT count(*) FROM orders WHERE id = @order", ("order", orderId)));
            Assert.Equal(1, await Sql.ScalarAsync(db, "SELECT count(*) FROM stock_releases WHERE order_id = @order AND releasing", ("order", orderId)));
        }
        finally
        {
            await Sql.ExecuteAsync(db, "DELETE FROM stock_releases WHERE order_id = @order", ("order", orderId));
        }
    }

    private async Task<Npgsql.NpgsqlConnection> OpenOrdersAsAppAsync()
    {
        var db = await shop.OpenDatabaseAsync("ordersdb");
        await Sql.ExecuteAsync(db, "SET ROLE ordersdb_app");
        return db;
    }
}
