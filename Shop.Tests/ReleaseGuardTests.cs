using Npgsql;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The release guard an order's placement writes and <c>store_order</c> deletes (<c>stock_releases</c>). Alone,
/// because the test sets up the table's statistics, which other tests' guards would change.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class ReleaseGuardTests(ShopApp shop)
{
    /// <summary>
    /// Every order inserts a guard and deletes it, so between two autovacuum passes the table fills with dead rows.
    /// A pass then leaves it with dozens of pages, a few live rows and a primary key grown by the churn, and from
    /// those statistics PostgreSQL's planner costs the one-row lookup through the key above reading every page.
    /// The bench saw one sequential scan of ~50 pages per order from the first pass on (docs/performance.md,
    /// Rounds 18 and 31).
    /// </summary>
    [Fact]
    public async Task Storing_an_order_deletes_its_guard_through_the_key_after_a_vacuum_of_a_churned_table()
    {
        var churnMark = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddSeconds(Random.Shared.Next(1_000_000));
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        try
        {
            // What a pass finds under load: pages of deleted guards, two guards still in flight at the end.
            // Due in a day, so the release worker leaves them alone.
            await Sql.ExecuteAsync(db, """
                INSERT INTO stock_releases (order_id, due_at, attempts, created_at)
                SELECT gen_random_uuid(), now() + interval '1 day', 0, @mark FROM generate_series(1, 5000)
                """, ("mark", churnMark));
            await Sql.ExecuteAsync(db, "DELETE FROM stock_releases WHERE created_at = @mark", ("mark", churnMark));
            await Sql.ExecuteAsync(db, """
                INSERT INTO stock_releases (order_id, due_at, attempts, created_at)
                SELECT gen_random_uuid(), now() + interval '1 day', 0, @mark FROM generate_series(1, 2)
                """, ("mark", churnMark));
            await Sql.ExecuteAsync(db, "VACUUM stock_releases");

            var (sequentialScans, indexScans) = await StoreOrderRolledBackAsync(db);
            Assert.True(sequentialScans == 0 && indexScans >= 1,
                $"store_order read stock_releases with {sequentialScans} sequential and {indexScans} index scans; it must find the order's guard through its key");
        }
        finally
        {
            await Sql.ExecuteAsync(db, "DELETE FROM stock_releases WHERE created_at = @mark", ("mark", churnMark));
        }
    }

    /// <summary>Calls <c>store_order</c> for a new order and its guard in a transaction that is rolled back; the scans of <c>stock_releases</c> it made.</summary>
    private static async Task<(long Sequential, long Index)> StoreOrderRolledBackAsync(NpgsqlConnection db)
    {
        // The backend's counts not yet reported include its earlier transactions', hence before and after.
        const string Scans = "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'stock_releases';";
        await using var transaction = await db.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($$"""
            INSERT INTO stock_releases (order_id, due_at, attempts, created_at) VALUES (@order, now() + interval '2 minutes', 0, now());
            {{Scans}}
            SELECT store_order(@order, 2000000000, 'pending', 10.00,
                '[{"sku": "GUARD-1", "name": "Guard", "qty": 1, "unit_price": 10.00, "line_total": 10.00}]'::jsonb,
                now(), now() + interval '30 minutes', 'created', 'Order placed: 1 line(s), total 10.00',
                'order.created', gen_random_uuid(), '{}', NULL, NULL, NULL);
            {{Scans}}
            """, db, transaction);
        command.Parameters.AddWithValue("order", Guid.NewGuid());
        var counts = new List<(long Sequential, long Index)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            do
            {
                if (reader.FieldCount == 2 && reader.GetName(0) == "seq_scan" && await reader.ReadAsync())
                {
                    counts.Add((reader.GetInt64(0), reader.GetInt64(1)));
                }
            }
            while (await reader.NextResultAsync());
        }
        await transaction.RollbackAsync();
        Assert.Equal(2, counts.Count);
        return (counts[1].Sequential - counts[0].Sequential, counts[1].Index - counts[0].Index);
    }
}
