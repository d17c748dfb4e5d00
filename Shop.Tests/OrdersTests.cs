using System.Net;
using System.Text.Json;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>Orders across Users, Inventory and Orders, through the gateway.</summary>
public sealed class OrdersTests(ShopApp shop)
{
    [Fact]
    public async Task Placing_an_order_prices_it_from_inventory_and_deducts_stock()
    {
        var a = await shop.NewItemAsync(qty: 10, price: 2.50m);
        var b = await shop.NewItemAsync(qty: 10, price: 10.00m);
        var (client, user) = await shop.NewUserAsync();
        var response = await client.PostJsonAsync("/orders/", new
        {
            items = new object[] { new { sku = a, qty = 3, unit_price = 0.01 }, new { sku = b, qty = 1, price = 0 } },
            total = 0.01, status = "delivered", user_id = 1,
        });
        await response.ExpectAsync(201);
        var order = await response.JsonAsync();
        Assert.Equal("pending", order.GetProperty("status").GetString());
        Assert.Equal(user.Id, order.GetProperty("user_id").GetInt32());
        Assert.Equal(17.50m, order.GetProperty("total").GetDecimal());
        var lineA = order.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("sku").GetString() == a);
        Assert.Equal(2.50m, lineA.GetProperty("unit_price").GetDecimal());
        Assert.Equal(7.50m, lineA.GetProperty("line_total").GetDecimal());
        Assert.True(Guid.TryParse(order.GetProperty("id").GetString(), out _));
        Assert.Equal($"/orders/{order.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
        Assert.Equal(7, await client.StockAsync(a));
        Assert.Equal(9, await client.StockAsync(b));
    }

    // The rules themselves are in the fast tier (Shop.UnitTests/Orders/OrderRequestValidationTests); here one
    // broken rule and the two ways a body fails to bind show they come back as 400 problems naming the field.
    [Theory]
    [InlineData("""{"items":[{"sku":"A-1","qty":0}]}""", "items[0].qty")]
    [InlineData("""{"items":[{"sku":"A-1","qty":"two"}]}""", "items[0].qty")]
    [InlineData("""{"items":"nope"}""", "items")]
    public async Task Order_input_is_validated(string body, string field)
    {
        var (client, _) = await shop.NewUserAsync();
        await (await client.PostRawAsync("/orders/", body)).ExpectValidationAsync(field);
    }

    [Fact]
    public async Task Unknown_sku_is_400_and_short_stock_is_409_naming_the_sku_with_nothing_deducted()
    {
        var ok = await shop.NewItemAsync(qty: 5);
        var scarce = await shop.NewItemAsync(qty: 1);
        var (client, _) = await shop.NewUserAsync();
        await (await client.PostJsonAsync("/orders/", new { items = new[] { new { sku = "NO-SUCH-" + Guid.NewGuid().ToString("N")[..6], qty = 1 } } })).ExpectValidationAsync("items");
        var conflict = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku = ok, qty = 2 }, new { sku = scarce, qty = 3 } } });
        var problem = await conflict.ExpectProblemAsync(409);
        Assert.Contains(scarce, problem.GetProperty("detail").GetString());
        Assert.Equal(5, await client.StockAsync(ok));
        Assert.Equal(1, await client.StockAsync(scarce));
        var mine = await (await client.GetAsync("/orders/")).JsonAsync();
        Assert.Equal(0, mine.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Forty_clients_racing_for_the_last_ten_units_get_exactly_ten_orders()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => shop.NewUserAsync()));
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            clients[i % clients.Length].Client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } })));
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(30, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(0, await clients[0].Client.StockAsync(sku));

        var admin = await shop.AdminAsync();
        var orders = 0;
        foreach (var (_, user) in clients)
        {
            var list = await (await admin.GetAsync($"/orders/?user_id={user.Id}&limit=200")).JsonAsync();
            orders += list.GetProperty("items").EnumerateArray().Count(o => o.GetProperty("items")[0].GetProperty("sku").GetString() == sku);
        }
        Assert.Equal(10, orders);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_make_one_order()
    {
        var sku = await shop.NewItemAsync(qty: 100);
        var (client, _) = await shop.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 2 } } }, r => r.Headers.Add("Idempotency-Key", key))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = (await Task.WhenAll(responses.Select(async r => (await r.JsonAsync()).GetProperty("id").GetString()))).Distinct().ToList();
        Assert.Single(ids);
        Assert.Equal(98, await client.StockAsync(sku));

        var later = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 2 } } }, r => r.Headers.Add("Idempotency-Key", key));
        await later.ExpectAsync(201);
        Assert.Equal(ids[0], (await later.JsonAsync()).GetProperty("id").GetString());

        var different = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 3 } } }, r => r.Headers.Add("Idempotency-Key", key));
        await different.ExpectProblemAsync(422);
        Assert.Equal(98, await client.StockAsync(sku));

        // Keys belong to a user: another user's identical key is a different request.
        var (other, _) = await shop.NewUserAsync();
        await (await other.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 2 } } }, r => r.Headers.Add("Idempotency-Key", key))).ExpectAsync(201);
        Assert.Equal(96, await client.StockAsync(sku));
    }

    /// <summary>
    /// A request whose key a request with the same body still holds waits for it (up to 15 s) and then, the first one
    /// still under way, gets 409 with Retry-After and changes nothing: the client must send it again with the same key
    /// (a new key could place a second order). The first request is stood in for by the claim row a placement still
    /// running leaves.
    /// </summary>
    [Fact]
    public async Task A_request_whose_key_is_still_in_progress_gets_409_with_retry_after_and_changes_nothing()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (client, user) = await shop.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        // The same body's hash as Orders keeps it (IdempotencyStore.RequestHash): a different one would be a 422.
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{sku}:2")));
        await using var db = await shop.OpenDatabaseAsync("ordersdb");
        await Sql.ExecuteAsync(db, """
            INSERT INTO idempotency_keys (user_id, key, request_hash, order_id, state, created_at, updated_at)
            VALUES (@user, @key, @hash, gen_random_uuid(), 'processing', now(), now())
            """, ("user", user.Id), ("key", key), ("hash", hash));
        try
        {
            var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 2 } } }, r => r.Headers.Add("Idempotency-Key", key));

            var problem = await response.ExpectProblemAsync(409);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "409 without Retry-After");
            Assert.Contains("same key", problem.GetProperty("detail").GetString());
            Assert.Equal(10, await client.StockAsync(sku));
            Assert.Equal(0, await Sql.ScalarAsync(db, "SELECT count(*) FROM orders WHERE user_id = @user", ("user", user.Id)));
            Assert.Equal(1, await Sql.ScalarAsync(db, "SELECT count(*) FROM idempotency_keys WHERE user_id = @user AND key = @key AND state = 'processing'", ("user", user.Id), ("key", key)));
        }
        finally
        {
            await Sql.ExecuteAsync(db, "DELETE FROM idempotency_keys WHERE user_id = @user AND key = @key", ("user", user.Id), ("key", key));
        }
    }

    [Fact]
    public async Task Idempotency_key_longer_than_255_is_400()
    {
        var (client, _) = await shop.NewUserAsync();
        var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku = "X-1", qty = 1 } } }, r => r.Headers.Add("Idempotency-Key", new string('k', 256)));
        await response.ExpectValidationAsync("Idempotency-Key");
    }

    [Fact]
    public async Task Lists_are_own_orders_newest_first_admin_sees_all_and_filters()
    {
        var sku = await shop.NewItemAsync();
        var (client, user) = await shop.NewUserAsync();
        var (other, otherUser) = await shop.NewUserAsync();
        var first = await client.PlaceOrderAsync((sku, 1));
        var second = await client.PlaceOrderAsync((sku, 2));
        await other.PlaceOrderAsync((sku, 1));

        var mine = await (await client.GetAsync("/orders/?user_id=" + otherUser.Id)).JsonAsync();
        Assert.Equal(2, mine.GetProperty("total").GetInt32());
        Assert.Equal(second.GetProperty("id").GetString(), mine.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.All(mine.GetProperty("items").EnumerateArray(), o => Assert.Equal(user.Id, o.GetProperty("user_id").GetInt32()));

        var admin = await shop.AdminAsync();
        var theirs = await (await admin.GetAsync($"/orders/?user_id={otherUser.Id}")).JsonAsync();
        Assert.Equal(1, theirs.GetProperty("total").GetInt32());
        await (await admin.PatchJsonAsync($"/orders/{first.GetProperty("id").GetString()}", new { status = "paid" })).ExpectAsync(200);
        var paid = await (await admin.GetAsync($"/orders/?user_id={user.Id}&status=paid")).JsonAsync();
        Assert.Equal(1, paid.GetProperty("total").GetInt32());
        await (await admin.GetAsync("/orders/?status=lost")).ExpectValidationAsync("status");
        await (await admin.GetAsync("/orders/?limit=500")).ExpectValidationAsync("limit");
    }

    [Fact]
    public async Task Another_users_order_and_its_events_are_404()
    {
        var sku = await shop.NewItemAsync();
        var (owner, _) = await shop.NewUserAsync();
        var (stranger, _) = await shop.NewUserAsync();
        var id = (await owner.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString();
        await (await stranger.GetAsync($"/orders/{id}")).ExpectProblemAsync(404);
        await (await stranger.GetAsync($"/orders/{id}/events")).ExpectProblemAsync(404);
        await (await stranger.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" })).ExpectProblemAsync(404);
        await (await owner.GetAsync($"/orders/{id}")).ExpectAsync(200);
        await (await (await shop.AdminAsync()).GetAsync($"/orders/{id}")).ExpectAsync(200);
        await (await owner.GetAsync($"/orders/{Guid.NewGuid()}")).ExpectProblemAsync(404);
    }

    [Fact]
    public async Task Status_workflow_follows_the_transition_table_and_records_events()
    {
        var sku = await shop.NewItemAsync();
        var (owner, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        var id = (await owner.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString();

        // The owner may only cancel.
        await (await owner.PatchJsonAsync($"/orders/{id}", new { status = "paid" })).ExpectProblemAsync(409);
        await (await admin.PatchJsonAsync($"/orders/{id}", new { status = "shipped" })).ExpectProblemAsync(409);
        await (await admin.PatchJsonAsync($"/orders/{id}", new { status = "bogus" })).ExpectValidationAsync("status");
        foreach (var next in new[] { "paid", "shipped", "delivered" })
        {
            var moved = await admin.PatchJsonAsync($"/orders/{id}", new { status = next });
            await moved.ExpectAsync(200);
            Assert.Equal(next, (await moved.JsonAsync()).GetProperty("status").GetString());
        }
        await (await admin.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" })).ExpectProblemAsync(409);

        var events = await (await owner.GetAsync($"/orders/{id}/events")).JsonAsync();
        var list = events.EnumerateArray().ToList();
        Assert.Equal(["created", "status_changed", "status_changed", "status_changed"], list.Select(e => e.GetProperty("event_type").GetString()));
        Assert.Equal(user.Id, list[0].GetProperty("user_id").GetInt32());
        Assert.Equal("pending", list[1].GetProperty("old_value").GetString());
        Assert.Equal("paid", list[1].GetProperty("new_value").GetString());
        Assert.NotEqual(user.Id, list[1].GetProperty("user_id").GetInt32());
        Assert.All(list, e => Assert.Equal(id, e.GetProperty("order_id").GetString()));
    }

    [Fact]
    public async Task Cancelling_restocks_once_even_when_cancelled_twice_concurrently()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (owner, _) = await shop.NewUserAsync();
        var order = await owner.PlaceOrderAsync((sku, 4));
        var id = order.GetProperty("id").GetString();
        Assert.Equal(6, await owner.StockAsync(sku));

        var cancels = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => owner.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" })));
        Assert.Single(cancels, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(cancels.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal(10, await owner.StockAsync(sku));
        var events = await (await owner.GetAsync($"/orders/{id}/events")).JsonAsync();
        Assert.Single(events.EnumerateArray(), e => e.GetProperty("new_value").GetString() == "cancelled");
    }

    /// <summary>
    /// A cancel's release of the stock can meet another release of the same order (a pass of the stock release worker,
    /// or another replica's) that has committed the restock and not yet invalidated the cached item. Inventory answered
    /// the cancel's release "already released" at once, so the cancel's 200 came while reads still showed the stock
    /// taken. The other release's commit, without its invalidation, is written over SQL here.
    /// </summary>
    [Fact]
    public async Task A_cancel_whose_stock_another_release_returned_meanwhile_reads_the_stock_back()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (owner, _) = await shop.NewUserAsync();
        var id = (await owner.PlaceOrderAsync((sku, 4))).GetProperty("id").GetString()!;
        Assert.Equal(6, await owner.StockAsync(sku)); // and now cached
        await using (var inventory = await shop.OpenDatabaseAsync("inventorydb"))
        {
            await Sql.ExecuteAsync(inventory, """
                WITH released AS (
                    UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = @order AND status = 'reserved' RETURNING order_id)
                UPDATE inventory AS i SET qty = i.qty + l.qty, updated_at = now()
                FROM reservation_lines AS l JOIN released AS r ON r.order_id = l.order_id
                WHERE i.id = l.item_id
                """, ("order", Guid.Parse(id)));
        }

        await (await owner.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" })).ExpectAsync(200);
        Assert.Equal(10, await owner.StockAsync(sku));
    }

    /// <summary>
    /// The answer that writes an order (placing it, replaying its Idempotency-Key, changing its status) shows the same
    /// created_at, updated_at and expires_at as every later read: PostgreSQL keeps microseconds, .NET's clock ticks in
    /// tenths of them, and a client that compares the two (a sync, a dedup, an If-Unmodified-Since) saw a change that
    /// never happened.
    /// </summary>
    [Fact]
    public async Task An_orders_times_in_the_answers_that_wrote_it_are_the_times_every_read_shows()
    {
        var sku = await shop.NewItemAsync();
        var (owner, _) = await shop.NewUserAsync();
        var key = Guid.NewGuid().ToString("N");
        var body = new { items = new[] { new { sku, qty = 1 } } };
        var placed = await owner.PostJsonAsync("/orders/", body, r => r.Headers.Add("Idempotency-Key", key));
        await placed.ExpectAsync(201);
        var answer = await placed.JsonAsync();
        var id = answer.GetProperty("id").GetString();
        var read = await (await owner.GetAsync($"/orders/{id}")).JsonAsync();
        answer.SameAsRead(read, "the 201 answer", "created_at", "updated_at", "expires_at");
        var replay = await owner.PostJsonAsync("/orders/", body, r => r.Headers.Add("Idempotency-Key", key));
        await replay.ExpectAsync(201);
        (await replay.JsonAsync()).SameAsRead(read, "the Idempotency-Key replay", "created_at", "updated_at", "expires_at");

        var cancelled = await owner.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" });
        await cancelled.ExpectAsync(200);
        (await cancelled.JsonAsync()).SameAsRead(await (await owner.GetAsync($"/orders/{id}")).JsonAsync(), "the PATCH answer", "updated_at");
    }

    [Fact]
    public async Task Order_reads_after_a_status_change_are_fresh()
    {
        var sku = await shop.NewItemAsync();
        var (owner, _) = await shop.NewUserAsync();
        var id = (await owner.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString();
        Assert.Equal("pending", (await (await owner.GetAsync($"/orders/{id}")).JsonAsync()).GetProperty("status").GetString());
        await (await owner.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" })).ExpectAsync(200);
        Assert.Equal("cancelled", (await (await owner.GetAsync($"/orders/{id}")).JsonAsync()).GetProperty("status").GetString());
    }
}
