using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>The Inventory API through the gateway, plus the internal reservation API straight on the service.</summary>
public sealed class InventoryTests(ShopApp shop)
{
    [Fact]
    public async Task Admin_creates_reads_patches_adjusts_and_deletes_an_item()
    {
        var admin = await shop.AdminAsync();
        var sku = "CRUD-" + Guid.NewGuid().ToString("N")[..8];
        var created = await admin.PostJsonAsync("/inventory/", new { sku, name = "Widget", price = 12.34m, qty = 5, id = 999999, created_at = "2001-01-01T00:00:00Z" });
        await created.ExpectAsync(201);
        var item = await created.JsonAsync();
        Assert.Equal(12.34m, item.GetProperty("price").GetDecimal());
        Assert.NotEqual(999999, item.GetProperty("id").GetInt32());

        await (await admin.PostJsonAsync("/inventory/", new { sku, name = "Again", price = 1, qty = 1 })).ExpectProblemAsync(409);

        var patched = await admin.PatchJsonAsync($"/inventory/{sku}", new { name = "Widget Pro", price = 20.5m });
        await patched.ExpectAsync(200);
        Assert.Equal("Widget Pro", (await patched.JsonAsync()).GetProperty("name").GetString());

        var adjusted = await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = 3 });
        await adjusted.ExpectAsync(200);
        Assert.Equal(8, (await adjusted.JsonAsync()).GetProperty("qty").GetInt32());

        // Refused either way with nothing changed, and the detail says which bound and what the stock is.
        var below = await (await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = -9 })).ExpectProblemAsync(409);
        Assert.Contains("below zero", below.GetProperty("detail").GetString());
        Assert.Contains("8 in stock", below.GetProperty("detail").GetString());
        var above = await (await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = 1_000_000_000 })).ExpectProblemAsync(409);
        Assert.Contains("above the maximum of 1000000000", above.GetProperty("detail").GetString());
        Assert.Contains("8 in stock", above.GetProperty("detail").GetString());
        Assert.Equal(8, await admin.StockAsync(sku));

        await (await admin.DeleteAsync($"/inventory/{sku}")).ExpectAsync(204);
        await (await admin.GetAsync($"/inventory/{sku}")).ExpectProblemAsync(404);
        await (await admin.DeleteAsync($"/inventory/{sku}")).ExpectProblemAsync(404);
    }

    /// <summary>A change to an item deleted meanwhile is a 404, not a 500: the delete commits while the change waits on the row.</summary>
    [Fact]
    public async Task A_change_to_an_item_deleted_meanwhile_is_not_found()
    {
        var (sku, patched) = await PatchWhileTheRowIsHeldAsync(new { price = 2.5m },
            "SELECT 1 FROM inventory WHERE sku = @sku FOR UPDATE", thenRun: "DELETE FROM inventory WHERE sku = @sku");
        var problem = await patched.ExpectProblemAsync(404);
        Assert.Contains(sku, problem.GetProperty("detail").GetString());
    }

    /// <summary>
    /// A PATCH sets what it names on the row as it is when its write lands. A reservation commits between the PATCH's
    /// read (5 in stock) and its write, and the PATCH sets the 5 it read: the stock is 5 afterwards, as it would be for
    /// any other figure, and the answer says what the row holds.
    /// </summary>
    [Fact]
    public async Task A_stock_set_by_a_patch_holds_even_when_a_reservation_took_some_meanwhile()
    {
        // What reserve_stock writes for an order of 2, not committed yet: the PATCH still reads 5, then waits on the row.
        var (sku, patched) = await PatchWhileTheRowIsHeldAsync(new { qty = 5 }, "UPDATE inventory SET qty = qty - 2, updated_at = now() WHERE sku = @sku");
        await patched.ExpectAsync(200);

        await using var db = await shop.OpenDatabaseAsync("inventorydb");
        Assert.Equal(5, await Sql.ScalarAsync(db, "SELECT qty FROM inventory WHERE sku = @sku", ("sku", sku)));
        Assert.Equal(5, (await patched.JsonAsync()).GetProperty("qty").GetInt32());
        Assert.Equal(5, await (await shop.AdminAsync()).StockAsync(sku));
    }

    /// <summary>
    /// An admin's <paramref name="patch"/> of a new item of 5 sent while another session holds the item's row, having run
    /// <paramref name="held"/> on it: once the PATCH waits on the row, that session runs <paramref name="thenRun"/> and commits.
    /// </summary>
    private async Task<(string Sku, HttpResponseMessage Patched)> PatchWhileTheRowIsHeldAsync(object patch, string held, string? thenRun = null)
    {
        var admin = await shop.AdminAsync();
        var sku = await shop.NewItemAsync(qty: 5);
        await using var holder = await shop.OpenDatabaseAsync("inventorydb");
        await using var watcher = await shop.OpenDatabaseAsync("inventorydb");
        Task<HttpResponseMessage> patching;
        await using (var holding = await holder.BeginTransactionAsync())
        {
            await Sql.ExecuteAsync(holder, held, ("sku", sku));
            patching = admin.PatchJsonAsync($"/inventory/{sku}", patch);
            await Sql.UntilALockIsAwaitedAsync(watcher, "the change", holder: holder);
            if (thenRun is not null)
            {
                await Sql.ExecuteAsync(holder, thenRun, ("sku", sku));
            }
            await holding.CommitAsync();
        }
        return (sku, await patching);
    }

    [Fact]
    public async Task Shoppers_read_but_cannot_write()
    {
        var sku = await shop.NewItemAsync();
        var (client, _) = await shop.NewUserAsync();
        await (await client.GetAsync($"/inventory/{sku}")).ExpectAsync(200);
        await (await client.PostJsonAsync("/inventory/", new { sku = "NOPE-1", name = "x", price = 1, qty = 1 })).ExpectProblemAsync(403);
        await (await client.PatchJsonAsync($"/inventory/{sku}", new { price = 0 })).ExpectProblemAsync(403);
        await (await client.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = -1 })).ExpectProblemAsync(403);
        await (await client.DeleteAsync($"/inventory/{sku}")).ExpectProblemAsync(403);
        await (await shop.Client().GetAsync($"/inventory/{sku}")).ExpectProblemAsync(401);
    }

    // Every field rule is in Shop.UnitTests (ItemValidationTests); here: a rule and a binding failure reach the client as a 400 naming the field.
    [Theory]
    [InlineData("""{"sku":"has space","name":"n","price":1,"qty":1}""", "sku")]
    [InlineData("""{"sku":"OK-1","name":"n","price":"free","qty":1}""", "price")]
    public async Task Create_validates_input(string body, string field)
    {
        var admin = await shop.AdminAsync();
        await (await admin.PostRawAsync("/inventory/", body)).ExpectValidationAsync(field);
    }

    [Fact]
    public async Task List_filters_by_q_and_in_stock_and_pages()
    {
        var tag = Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync("/inventory/", new { sku = $"{tag}-A", name = "Alpha thing", price = 1, qty = 3 })).ExpectAsync(201);
        await (await admin.PostJsonAsync("/inventory/", new { sku = $"{tag}-B", name = "Beta thing", price = 1, qty = 0 })).ExpectAsync(201);
        await (await admin.PostJsonAsync("/inventory/", new { sku = "Z" + Guid.NewGuid().ToString("N")[..8], name = $"Named {tag.ToLowerInvariant()} gamma", price = 1, qty = 1 })).ExpectAsync(201);

        var all = await (await admin.GetAsync($"/inventory/?q={tag.ToLowerInvariant()}")).JsonAsync();
        Assert.Equal(3, all.GetProperty("total").GetInt32());
        var inStock = await (await admin.GetAsync($"/inventory/?q={tag}&in_stock=true")).JsonAsync();
        Assert.Equal(2, inStock.GetProperty("total").GetInt32());
        Assert.DoesNotContain(inStock.GetProperty("items").EnumerateArray(), i => i.GetProperty("qty").GetInt32() == 0);
        var paged = await (await admin.GetAsync($"/inventory/?q={tag}&limit=1&offset=1")).JsonAsync();
        Assert.Single(paged.GetProperty("items").EnumerateArray());
        Assert.Equal(3, paged.GetProperty("total").GetInt32());

        // LIKE wildcards in the search are literal text: "%<tag>" matches nothing, though "<tag>" matches three.
        var wildcard = await (await admin.GetAsync($"/inventory/?q=%25{tag}")).JsonAsync();
        Assert.Equal(0, wildcard.GetProperty("total").GetInt32());
    }

    /// <summary>An item's created_at and updated_at in the answer that wrote it are the ones a read shows (to the microsecond PostgreSQL keeps).</summary>
    [Fact]
    public async Task An_items_times_in_the_answers_that_wrote_it_are_the_times_every_read_shows()
    {
        var admin = await shop.AdminAsync();
        var sku = "TIME-" + Guid.NewGuid().ToString("N")[..8];
        var created = await admin.PostJsonAsync("/inventory/", new { sku, name = "Clock", price = 1.00m, qty = 1 });
        await created.ExpectAsync(201);
        var answer = await created.JsonAsync();
        answer.SameAsRead(await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync(), "the 201 answer", "created_at", "updated_at");

        var patched = await admin.PatchJsonAsync($"/inventory/{sku}", new { name = "Clock Pro" });
        await patched.ExpectAsync(200);
        (await patched.JsonAsync()).SameAsRead(await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync(), "the PATCH answer", "updated_at");
    }

    /// <summary>
    /// A price is money, at most 2 decimals on the wire (SPEC): the answer that wrote it shows it as the column stores it
    /// and every read shows it (numeric(12,2)), not with the zeros or the missing ones of what the admin sent.
    /// </summary>
    [Theory]
    [InlineData("1.50000")]
    [InlineData("7")]
    [InlineData("2.5")]
    public async Task An_items_price_in_the_answers_that_wrote_it_is_the_price_every_read_shows(string price)
    {
        var admin = await shop.AdminAsync();
        var sku = "PRICE-" + Guid.NewGuid().ToString("N")[..8];
        var created = await admin.PostRawAsync("/inventory/", $$"""{"sku":"{{sku}}","name":"Scale","price":{{price}},"qty":1}""");
        await created.ExpectAsync(201);
        (await created.JsonAsync()).SameAsRead(await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync(), "the 201 answer", "price");

        var patched = await admin.SendAsync(HttpMethod.Patch, $"/inventory/{sku}",
            new StringContent($$"""{"price":{{price}}0}""", System.Text.Encoding.UTF8, "application/json"));
        await patched.ExpectAsync(200);
        (await patched.JsonAsync()).SameAsRead(await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync(), "the PATCH answer", "price");
    }

    /// <summary>
    /// A PATCH that names none of name, price and qty (a misspelt field, which is ignored like any unknown one) changes
    /// nothing, so it is a 400 that says so, not a 200 that leaves the admin believing the stock was set.
    /// </summary>
    [Fact]
    public async Task A_patch_naming_no_field_it_can_change_is_400_and_changes_nothing()
    {
        var sku = await shop.NewItemAsync(qty: 5);
        var admin = await shop.AdminAsync();
        var before = await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync();
        var problem = await (await admin.PatchJsonAsync($"/inventory/{sku}", new { quantity = 0 })).ExpectValidationAsync("body");
        Assert.Contains("name, price or qty", problem.GetProperty("detail").GetString());
        var after = await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync();
        after.SameAsRead(before, "the item after the refused PATCH", "qty", "updated_at");
    }

    [Fact]
    public async Task A_read_after_a_write_sees_the_write_through_the_cache()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var admin = await shop.AdminAsync();
        Assert.Equal(10, await admin.StockAsync(sku)); // warms the cache
        Assert.Equal(10, await admin.StockAsync(sku));
        await (await admin.PatchJsonAsync($"/inventory/{sku}", new { qty = 7, name = "Renamed" })).ExpectAsync(200);
        var item = await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync();
        Assert.Equal(7, item.GetProperty("qty").GetInt32());
        Assert.Equal("Renamed", item.GetProperty("name").GetString());
        await (await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = 5 })).ExpectAsync(200);
        Assert.Equal(12, await admin.StockAsync(sku));
        var (shopper, _) = await shop.NewUserAsync();
        await shopper.PlaceOrderAsync((sku, 2)); // reservations invalidate too
        Assert.Equal(10, await admin.StockAsync(sku));
    }

    /// <summary>
    /// A sku no item can have is a 404 before the cache is asked: the cache keeps an item's generation beside it
    /// (<c>…:gen</c>, written by every change), and a colon in the path read that as the item (a 500 and an error
    /// logged per request). A sku with a final line break, which .NET's <c>$</c> let through to the database, is a 400.
    /// </summary>
    [Fact]
    public async Task A_sku_no_item_can_have_is_not_found_and_never_read_from_the_cache()
    {
        var sku = await shop.NewItemAsync(qty: 5);
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = 1 })).ExpectAsync(200); // advances the item's cache generation
        var (shopper, _) = await shop.NewUserAsync();

        var problem = await (await shopper.GetAsync($"/inventory/{sku}:gen")).ExpectProblemAsync(404);
        Assert.Contains($"'{sku}:gen'", problem.GetProperty("detail").GetString());
        Assert.Equal(6, await shopper.StockAsync(sku));

        await (await admin.PostJsonAsync("/inventory/", new { sku = sku + "-B\n", name = "Line break", price = 1, qty = 1 })).ExpectValidationAsync("sku");
    }

    [Fact]
    public async Task Reservation_api_requires_the_service_key_not_a_user_token()
    {
        var sku = await shop.NewItemAsync(qty: 5);
        var admin = await shop.AdminAsync();
        var direct = shop.ServiceClient("inventory", withServiceKey: false);
        var asAdmin = new ShopClient(direct.Http, admin.Token);
        var body = new { order_id = Guid.NewGuid(), items = new[] { new { sku, qty = 1 } } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await direct.PostJsonAsync("/internal/reservations/", body)).StatusCode);
        Assert.True((await asAdmin.PostJsonAsync("/internal/reservations/", body)).StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);
        Assert.Equal(5, await admin.StockAsync(sku));
    }

    [Fact]
    public async Task Each_service_key_opens_only_its_callers_routes()
    {
        var sku = await shop.NewItemAsync(qty: 5);
        var (_, user) = await shop.NewUserAsync();
        var body = new { order_id = Guid.NewGuid(), items = new[] { new { sku, qty = 1 } } };
        // Inventory's own key may look an account up at Users (for security stamps) but cannot take stock:
        // Inventory admits only Orders' key.
        var asInventory = shop.ServiceClient("inventory", withServiceKey: true, caller: "inventory");
        Assert.Equal(HttpStatusCode.Unauthorized, (await asInventory.PostJsonAsync("/internal/reservations/", body)).StatusCode);
        await (await shop.ServiceClient("users", withServiceKey: true, caller: "inventory").GetAsync($"/internal/users/{user.Id}")).ExpectAsync(200);
        await (await shop.ServiceClient("users", withServiceKey: true, caller: "orders").GetAsync($"/internal/users/{user.Id}")).ExpectAsync(200);
        var unknown = shop.ServiceClient("users", withServiceKey: false);
        unknown.Http.DefaultRequestHeaders.Add("X-Service-Key", "not-a-key-of-any-service-0123456789abcdef");
        Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.GetAsync($"/internal/users/{user.Id}")).StatusCode);
        Assert.Equal(5, await (await shop.AdminAsync()).StockAsync(sku));
    }

    [Fact]
    public async Task Fifty_concurrent_reservations_against_twenty_units_sell_exactly_twenty()
    {
        var sku = await shop.NewItemAsync(qty: 20);
        var service = shop.ServiceClient("inventory", withServiceKey: true);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            service.PostJsonAsync("/internal/reservations/", new { order_id = Guid.NewGuid(), items = new[] { new { sku, qty = 1 } } })));
        Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(30, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.DoesNotContain(responses, r => (int)r.StatusCode >= 500);
        Assert.Equal(0, await (await shop.AdminAsync()).StockAsync(sku));
    }

    [Fact]
    public async Task Multi_line_reservations_in_opposite_orders_never_deadlock()
    {
        var a = await shop.NewItemAsync(qty: 1000);
        var b = await shop.NewItemAsync(qty: 1000);
        var service = shop.ServiceClient("inventory", withServiceKey: true);
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            service.PostJsonAsync("/internal/reservations/", new
            {
                order_id = Guid.NewGuid(),
                items = i % 2 == 0 ? new[] { new { sku = a, qty = 1 }, new { sku = b, qty = 1 } } : [new { sku = b, qty = 1 }, new { sku = a, qty = 1 }],
            })));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var admin = await shop.AdminAsync();
        Assert.Equal(960, await admin.StockAsync(a));
        Assert.Equal(960, await admin.StockAsync(b));
    }

    [Fact]
    public async Task Reservation_is_all_or_nothing_and_names_the_short_skus()
    {
        var plenty = await shop.NewItemAsync(qty: 10);
        var scarce = await shop.NewItemAsync(qty: 1);
        var service = shop.ServiceClient("inventory", withServiceKey: true);
        var response = await service.PostJsonAsync("/internal/reservations/", new { order_id = Guid.NewGuid(), items = new[] { new { sku = plenty, qty = 5 }, new { sku = scarce, qty = 2 } } });
        var problem = await response.ExpectProblemAsync(409);
        Assert.Contains(scarce, problem.GetProperty("detail").GetString());
        Assert.Equal(scarce, problem.GetProperty("shortages")[0].GetProperty("sku").GetString());
        var admin = await shop.AdminAsync();
        Assert.Equal(10, await admin.StockAsync(plenty));
        Assert.Equal(1, await admin.StockAsync(scarce));

        var unknown = await service.PostJsonAsync("/internal/reservations/", new { order_id = Guid.NewGuid(), items = new[] { new { sku = "NO-SUCH-SKU-X", qty = 1 } } });
        await unknown.ExpectValidationAsync("items");
    }

    [Fact]
    public async Task A_retried_reservation_deducts_once_and_a_double_release_restocks_once()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var service = shop.ServiceClient("inventory", withServiceKey: true);
        var orderId = Guid.NewGuid();
        var body = new { order_id = orderId, items = new[] { new { sku, qty = 4 } } };
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => service.PostJsonAsync("/internal/reservations/", body)));
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var admin = await shop.AdminAsync();
        Assert.Equal(6, await admin.StockAsync(sku));
        var reservation = await results[0].JsonAsync();
        Assert.Equal(10.00m, reservation.GetProperty("lines")[0].GetProperty("unit_price").GetDecimal());

        var releases = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => service.PostJsonAsync($"/internal/reservations/{orderId}/release", null)));
        var released = await Task.WhenAll(releases.Select(async r => (await r.JsonAsync()).GetProperty("released").GetBoolean()));
        Assert.Single(released, r => r);
        Assert.Equal(10, await admin.StockAsync(sku));

        // A late retry of the original reservation must not take the stock again.
        await (await service.PostJsonAsync("/internal/reservations/", body)).ExpectProblemAsync(409);
        Assert.Equal(10, await admin.StockAsync(sku));
    }

    /// <summary>
    /// A restock is never refused (the order's stock goes back whatever the item holds now), so stock can stand above
    /// the adjust limit after an admin topped it up meanwhile. Taking stock out of such an item must still work: only
    /// a change that leaves the range is refused, not one that moves back towards it.
    /// </summary>
    [Fact]
    public async Task Stock_above_the_maximum_after_a_restock_can_still_be_taken_out()
    {
        const int max = 1_000_000_000;
        var sku = await shop.NewItemAsync(qty: max);
        var service = shop.ServiceClient("inventory", withServiceKey: true);
        var orderId = Guid.NewGuid();
        await (await service.PostJsonAsync("/internal/reservations/", new { order_id = orderId, items = new[] { new { sku, qty = 10 } } })).ExpectAsync(200);
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = 10 })).ExpectAsync(200);
        await (await service.PostJsonAsync($"/internal/reservations/{orderId}/release", null)).ExpectAsync(200);
        Assert.Equal(max + 10, await admin.StockAsync(sku));

        var lowered = await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = -1 });
        await lowered.ExpectAsync(200);
        Assert.Equal(max + 9, (await lowered.JsonAsync()).GetProperty("qty").GetInt32());
        // Adding to it is still refused, with nothing changed.
        await (await admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = 1 })).ExpectProblemAsync(409);
        Assert.Equal(max + 9, await admin.StockAsync(sku));
    }

    /// <summary>
    /// An order's stock goes back to the item it was taken from. When that item was deleted meanwhile and another
    /// item created under the same sku, the new item never had that stock: a release crediting it would offer units
    /// that do not exist.
    /// </summary>
    [Fact]
    public async Task A_release_never_credits_another_item_that_took_a_deleted_items_sku()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var service = shop.ServiceClient("inventory", withServiceKey: true);
        var orderId = Guid.NewGuid();
        await (await service.PostJsonAsync("/internal/reservations/", new { order_id = orderId, items = new[] { new { sku, qty = 4 } } })).ExpectAsync(200);
        var admin = await shop.AdminAsync();
        await (await admin.DeleteAsync($"/inventory/{sku}")).ExpectAsync(204);
        await (await admin.PostJsonAsync("/inventory/", new { sku, name = "Another product", price = 1, qty = 0 })).ExpectAsync(201);

        var release = await service.PostJsonAsync($"/internal/reservations/{orderId}/release", null);
        await release.ExpectAsync(200);
        Assert.True((await release.JsonAsync()).GetProperty("released").GetBoolean());
        Assert.Equal(0, await admin.StockAsync(sku));
    }

    /// <summary>
    /// The held totals (what the stock reconciliation compares orders with) count each line under the item it will go
    /// back to, as a release does: the units a deleted item's order still holds are no one's, and never the new
    /// item's that took its sku.
    /// </summary>
    [Fact]
    public async Task Held_totals_never_count_a_deleted_items_units_under_the_item_that_took_its_sku()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var service = shop.ServiceClient("inventory", withServiceKey: true);
        await (await service.PostJsonAsync("/internal/reservations/", new { order_id = Guid.NewGuid(), items = new[] { new { sku, qty = 4 } } })).ExpectAsync(200);
        var admin = await shop.AdminAsync();
        await (await admin.DeleteAsync($"/inventory/{sku}")).ExpectAsync(204);
        await (await admin.PostJsonAsync("/inventory/", new { sku, name = "Another product", price = 1, qty = 5 })).ExpectAsync(201);
        await (await service.PostJsonAsync("/internal/reservations/", new { order_id = Guid.NewGuid(), items = new[] { new { sku, qty = 2 } } })).ExpectAsync(200);

        var totals = await (await service.GetAsync("/internal/reservations/totals")).JsonAsync();

        Assert.Equal(2, totals.GetProperty(sku).GetInt32());
    }

    [Fact]
    public async Task Stock_can_never_go_negative_in_the_database()
    {
        var sku = await shop.NewItemAsync(qty: 1);
        var admin = await shop.AdminAsync();
        var adjustments = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => admin.PostJsonAsync($"/inventory/{sku}/adjust", new { delta = -1 })));
        Assert.Single(adjustments, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(0, await admin.StockAsync(sku));
    }

    /// <summary>
    /// The CHECK constraint behind the guarantee above: a write that skips the service's own checks (a bug, a
    /// hand-written fix) still cannot make stock negative, with the service's own database role.
    /// </summary>
    [Fact]
    public async Task The_database_refuses_negative_stock_even_from_the_services_own_role()
    {
        var sku = await shop.NewItemAsync(qty: 1);
        await using var db = await shop.OpenDatabaseAsync("inventorydb");
        await Sql.ExecuteAsync(db, "SET ROLE inventorydb_app");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync(db, "UPDATE inventory SET qty = qty - 2 WHERE sku = @sku", ("sku", sku)));

        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Equal("ck_inventory_qty_non_negative", refused.ConstraintName);
        Assert.Equal(1, await Sql.ScalarAsync(db, "SELECT qty FROM inventory WHERE sku = @sku", ("sku", sku)));
    }

    /// <summary>
    /// Every item must stay addressable as <c>/inventory/{sku}</c>. ".." and "." are dot segments that a URL parser
    /// removes (the item could be listed and ordered but never read, changed or deleted), and "healthz" is the
    /// service's public health route, which answered a DELETE of that item with 200 "healthy" and deleted nothing.
    /// </summary>
    [Fact]
    public async Task A_sku_that_could_not_be_addressed_is_refused_and_the_health_route_answers_reads_only()
    {
        var admin = await shop.AdminAsync();
        foreach (var sku in new[] { "..", ".", "healthz", "HealthZ" })
        {
            await (await admin.PostJsonAsync("/inventory/", new { sku, name = "Unreachable", price = 1, qty = 5 })).ExpectValidationAsync("sku");
        }

        await using var db = await shop.OpenDatabaseAsync("inventorydb");
        await Sql.ExecuteAsync(db, "SET ROLE inventorydb_app");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync(db,
            "INSERT INTO inventory (sku, name, price, qty) VALUES ('..', 'Unreachable', 1, 5)"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Equal("ck_inventory_sku_addressable", refused.ConstraintName);

        foreach (var method in new[] { HttpMethod.Delete, HttpMethod.Patch, HttpMethod.Post })
        {
            var answer = await admin.SendAsync(method, "/inventory/healthz", JsonContent.Create(new { qty = 1 }));
            Assert.False(answer.IsSuccessStatusCode, $"{method} /inventory/healthz answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        }
        await (await shop.Client().GetAsync("/inventory/healthz")).ExpectAsync(200);
    }
}
