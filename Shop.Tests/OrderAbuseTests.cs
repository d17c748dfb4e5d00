using System.Text.Json;
using Npgsql;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Stock hoarding: caps per user and per order, pending orders that expire and give
/// their stock back, and a short-stock answer that does not tell shoppers the exact count left.
/// </summary>
public sealed class OrderAbuseTests(ShopApp shop)
{
    [Fact]
    public async Task A_hoarding_script_cannot_hold_more_pending_orders_than_the_cap()
    {
        const int extra = 20;
        var sku = await shop.NewItemAsync(qty: 1000);
        var (client, user) = await shop.NewUserAsync();

        // Concurrent, as a script would: the cap must hold under races, not just one at a time. Like a
        // persistent script it retries a 503 (the shared app is busy with every other test) with the same
        // Idempotency-Key, so a retry never makes a second order.
        using var gate = new SemaphoreSlim(8);
        var answers = await Task.WhenAll(Enumerable.Range(0, ShopAppHost.PendingOrdersCap + extra).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var key = Guid.NewGuid().ToString("N");
                for (var attempt = 1; ; attempt++)
                {
                    var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } }, r => r.Headers.Add("Idempotency-Key", key));
                    if ((int)response.StatusCode != 503 || attempt == 10)
                    {
                        return (Status: (int)response.StatusCode, Body: await response.Content.ReadAsStringAsync());
                    }
                    await Task.Delay(1000);
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.Equal(ShopAppHost.PendingOrdersCap, answers.Count(a => a.Status == 201));
        var refusals = answers.Where(a => a.Status != 201).ToList();
        Assert.Equal(extra, refusals.Count);
        Assert.All(refusals, r => Assert.Equal(409, r.Status));
        var detail = JsonDocument.Parse(refusals[0].Body).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains($"{ShopAppHost.PendingOrdersCap} pending orders", detail);
        Assert.Contains("cancel", detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1000 - ShopAppHost.PendingOrdersCap, await client.StockAsync(sku));

        // Cancelling one frees a place.
        var mine = await (await client.GetAsync("/orders/?status=pending&limit=1")).JsonAsync();
        var first = mine.GetProperty("items")[0].GetProperty("id").GetString();
        await (await client.PatchJsonAsync($"/orders/{first}", new { status = "cancelled" })).ExpectAsync(200);
        await client.PlaceOrderAsync((sku, 1));
        await AssertPendingCountAsync(user.Id, ShopAppHost.PendingOrdersCap);
        await StockLedger.AssertConsistentAsync(shop, new Dictionary<string, int> { [sku] = 1000 }, [user.Id]);
    }

    /// <summary>
    /// The cap is an invariant of the database, not only of the service's code: a session that carries the
    /// cap setting (as every Orders connection does) cannot insert a pending order past it, whatever wrote
    /// the insert, and the count is unchanged by the refused row. Run as the service's own role.
    /// </summary>
    [Fact]
    public async Task The_database_refuses_a_pending_order_past_the_cap_set_on_the_session()
    {
        var environment = await shop.ProcessEnvironmentAsync("orders");
        var appRole = new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__ordersdb"])
        {
            Options = "-c shop.max_pending_orders_per_user=2",
            Pooling = false,
        };
        await using var db = new NpgsqlConnection(appRole.ConnectionString);
        await db.OpenAsync();
        var userId = Random.Shared.Next(1_000_000_000, int.MaxValue);

        async Task InsertPendingAsync()
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO orders (id, user_id, total, status, created_at, updated_at, expires_at)
                VALUES (gen_random_uuid(), @u, 1, 'pending', now(), now(), now() + interval '30 minutes')
                """, db);
            insert.Parameters.AddWithValue("u", userId);
            await insert.ExecuteNonQueryAsync();
        }

        await InsertPendingAsync();
        await InsertPendingAsync();
        var refused = await Assert.ThrowsAsync<PostgresException>(InsertPendingAsync);
        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Equal("pending_orders_cap", refused.ConstraintName);
        await AssertPendingCountAsync(userId, 2);
    }

    /// <summary>
    /// The cap reads a per-user count a trigger keeps; it must equal the user's pending orders after every
    /// kind of change (placement, cancellation, payment, expiry).
    /// </summary>
    private async Task AssertPendingCountAsync(int userId, int expected)
    {
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        var actual = await Sql.ScalarAsync(db, "SELECT count(*) FROM orders WHERE user_id = @u AND status = 'pending'", ("u", userId));
        var kept = await Sql.ScalarAsync(db, "SELECT coalesce((SELECT pending FROM pending_order_counts WHERE user_id = @u), 0)", ("u", userId));
        Assert.Equal(expected, (int)actual);
        Assert.Equal(actual, kept);
    }

    [Fact]
    public async Task An_order_over_the_unit_cap_is_refused_and_takes_no_stock()
    {
        var a = await shop.NewItemAsync(qty: 2000);
        var b = await shop.NewItemAsync(qty: 2000);
        var (client, _) = await shop.NewUserAsync();

        var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku = a, qty = 600 }, new { sku = b, qty = 600 } } });
        var problem = await response.ExpectProblemAsync(422);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains($"at most {ShopAppHost.UnitsPerOrderCap} units", detail);
        Assert.Contains("1200", detail);
        Assert.Equal(2000, await client.StockAsync(a));
        Assert.Equal(2000, await client.StockAsync(b));

        await client.PlaceOrderAsync((a, 600), (b, ShopAppHost.UnitsPerOrderCap - 600));
    }

    [Fact]
    public async Task Short_stock_names_the_skus_but_only_an_admin_sees_how_many_are_left()
    {
        var plenty = await shop.NewItemAsync(qty: 50);
        var scarce = await shop.NewItemAsync(qty: 7);
        var body = new { items = new[] { new { sku = plenty, qty = 2 }, new { sku = scarce, qty = 9 } } };

        var (client, _) = await shop.NewUserAsync();
        var problem = await (await client.PostJsonAsync("/orders/", body)).ExpectProblemAsync(409);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(scarce, detail);
        Assert.DoesNotContain(plenty, detail);
        Assert.DoesNotContain("7", detail.Replace(scarce, ""));
        Assert.DoesNotContain("available", problem.GetRawText());
        var shortage = Assert.Single(problem.GetProperty("shortages").EnumerateArray());
        Assert.Equal(scarce, shortage.GetProperty("sku").GetString());
        Assert.Equal(9, shortage.GetProperty("requested").GetInt32());

        var admin = await shop.AdminAsync();
        var adminProblem = await (await admin.PostJsonAsync("/orders/", body)).ExpectProblemAsync(409);
        Assert.Contains("available 7", adminProblem.GetProperty("detail").GetString());
        Assert.Equal(7, adminProblem.GetProperty("shortages")[0].GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task A_pending_order_past_its_expiry_expires_with_an_event_and_its_stock_returns()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, secret) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.status_changed");
        try
        {
            var sku = await shop.NewItemAsync(qty: 20);
            var (client, user) = await shop.NewUserAsync();
            var order = await client.PlaceOrderAsync((sku, 5));
            var id = order.GetProperty("id").GetString()!;
            Assert.Equal("pending", order.GetProperty("status").GetString());
            var expiresAt = order.GetProperty("expires_at").GetDateTime();
            Assert.InRange(expiresAt - order.GetProperty("created_at").GetDateTime(), TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(31));
            var paidOne = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            await (await admin.PatchJsonAsync($"/orders/{paidOne}", new { status = "paid" })).ExpectAsync(200);
            Assert.Equal(14, await client.StockAsync(sku));

            // Nobody may set "expired" by hand; only the clock does.
            await (await admin.PatchJsonAsync($"/orders/{id}", new { status = "expired" })).ExpectProblemAsync(409);

            // Thirty minutes pass for this order only (the shared app's other pending orders keep theirs).
            await using (var db = await shop.OpenDatabaseAsync("ordersdb"))
            {
                await using var move = db.CreateCommand();
                move.CommandText = "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id IN (@a, @b)";
                move.Parameters.AddWithValue("a", Guid.Parse(id));
                move.Parameters.AddWithValue("b", Guid.Parse(paidOne));
                await move.ExecuteNonQueryAsync();
            }

            var expired = await WaitForStatusAsync(client, id, "expired");
            Assert.Null(expired.GetProperty("expires_at").GetString());
            await WaitForStockAsync(client, sku, 19);
            Assert.Equal("paid", (await (await client.GetAsync($"/orders/{paidOne}")).JsonAsync()).GetProperty("status").GetString());

            var events = await (await client.GetAsync($"/orders/{id}/events")).JsonAsync();
            var last = events.EnumerateArray().Last();
            Assert.Equal("status_changed", last.GetProperty("event_type").GetString());
            Assert.Equal("pending", last.GetProperty("old_value").GetString());
            Assert.Equal("expired", last.GetProperty("new_value").GetString());

            var hook = await receiver.WaitForAsync(id, "order.status_changed", TimeSpan.FromSeconds(30));
            Assert.NotNull(hook);
            Assert.True(WebhookReceiver.SignatureIsValid(secret, hook));
            Assert.Equal("expired", hook.Json.GetProperty("data").GetProperty("order").GetProperty("status").GetString());

            // An expired order cannot be paid or cancelled any more, and its stock is not returned twice.
            await (await admin.PatchJsonAsync($"/orders/{id}", new { status = "paid" })).ExpectProblemAsync(409);
            await (await client.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" })).ExpectProblemAsync(409);
            Assert.Equal(19, await client.StockAsync(sku));
            var listed = await (await client.GetAsync("/orders/?status=expired")).JsonAsync();
            Assert.Equal(id, Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
            await AssertPendingCountAsync(user.Id, 0);
            await StockLedger.AssertConsistentAsync(shop, new Dictionary<string, int> { [sku] = 20 }, [user.Id]);
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    private static async Task<JsonElement> WaitForStatusAsync(ShopClient client, string id, string status)
    {
        var order = await Eventually.ReadUntilAsync(async () => await (await client.GetAsync($"/orders/{id}")).JsonAsync(),
            o => o.GetProperty("status").GetString() == status, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));
        Assert.True(order.GetProperty("status").GetString() == status, $"order {id} is still {order.GetProperty("status").GetString()}, expected {status}");
        return order;
    }

    private static async Task WaitForStockAsync(ShopClient client, string sku, int expected)
    {
        var stock = await Eventually.ReadUntilAsync(() => client.StockAsync(sku), s => s == expected, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));
        Assert.Equal(expected, stock);
    }
}
