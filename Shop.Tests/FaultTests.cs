using System.Diagnostics;
using System.Net;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Graceful degradation: resources of the running app are stopped and started again through
/// Aspire's resource commands. These run alone, after the parallel tests, since they take parts
/// of the shared app away for a while.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class FaultTests(ShopApp shop, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_services_database_down_makes_its_healthz_503_and_it_recovers()
    {
        await shop.StopResourceAsync("users-db");
        try
        {
            var down = await PollAsync("/users/healthz", HttpStatusCode.ServiceUnavailable);
            var body = await down.JsonAsync();
            Assert.Equal("unhealthy", body.GetProperty("status").GetString());
            Assert.Contains("UsersDbContext", body.GetProperty("checks").GetRawText());
            // The other services and the gateway are unaffected.
            await (await shop.Client().GetAsync("/orders/healthz")).ExpectAsync(200);
            await (await shop.Client().GetAsync("/inventory/healthz")).ExpectAsync(200);
            // Requests that need the database fail cleanly, without internals.
            var login = await shop.Client().PostJsonAsync("/users/login", new { email = ShopApp.AdminEmail, password = ShopApp.AdminPassword });
            var problem = await login.ExpectProblemAsync(503);
            Assert.True(login.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
            Assert.Contains("database", problem.GetProperty("detail").GetString());
            var text = problem.GetRawText();
            Assert.DoesNotContain("Npgsql", text);
            Assert.DoesNotContain("   at ", text);
        }
        finally
        {
            await shop.StartResourceAsync("users-db");
        }
        await PollAsync("/users/healthz", HttpStatusCode.OK);
        await shop.AdminAsync();
    }

    [Fact]
    public async Task Redis_down_is_degraded_and_reads_and_writes_keep_working_from_the_database()
    {
        var sku = await shop.NewItemAsync(qty: 50);
        var (client, _) = await shop.NewUserAsync();
        Assert.Equal(50, await client.StockAsync(sku)); // cached
        await shop.StopResourceAsync("redis");
        try
        {
            foreach (var service in new[] { "users", "orders", "inventory" })
            {
                var health = await PollAsync($"/{service}/healthz", HttpStatusCode.OK, "degraded");
                Assert.Equal("degraded", (await health.JsonAsync()).GetProperty("status").GetString());
            }
            var order = await client.PlaceOrderAsync((sku, 5));
            Assert.Equal(45, await client.StockAsync(sku));
            await (await client.GetAsync($"/orders/{order.GetProperty("id").GetString()}")).ExpectAsync(200);
            await (await client.GetAsync("/users/me")).ExpectAsync(200);
        }
        finally
        {
            await shop.StartResourceAsync("redis");
        }
        await PollAsync("/inventory/healthz", HttpStatusCode.OK, "healthy");
        // The write made while Redis was away must not be hidden by the old cached value.
        Assert.Equal(45, await client.StockAsync(sku));
    }

    [Fact]
    public async Task Inventory_down_makes_orders_fail_fast_with_503_and_nothing_half_done()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (client, user) = await shop.NewUserAsync();
        await shop.StopResourceAsync("inventory");
        try
        {
            var watch = Stopwatch.StartNew();
            var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } });
            output.WriteLine($"POST /orders/ with Inventory down answered {(int)response.StatusCode} in {watch.ElapsedMilliseconds} ms");
            await response.ExpectProblemAsync(503);
            var mine = await (await client.GetAsync("/orders/")).JsonAsync();
            Assert.Equal(0, mine.GetProperty("total").GetInt32());
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("inventory");
        }
        await PollAsync("/inventory/healthz", HttpStatusCode.OK);
        await RetryAsync(async () => await client.PlaceOrderAsync((sku, 1)));
        Assert.Equal(9, await client.StockAsync(sku));
        var after = await (await client.GetAsync("/orders/")).JsonAsync();
        Assert.Equal(1, after.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Pending_webhooks_survive_an_orders_restart()
    {
        await using var receiver = new WebhookReceiver(); // down while the event happens
        var admin = await shop.AdminAsync();
        var (hookId, secret) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            await WebhookTests.WaitForDeliveryAsync(admin, hookId, orderId, "pending", minAttempts: 1);

            await shop.StopResourceAsync("orders");
            await receiver.ListenAsync();
            await shop.StartAndWaitHealthyAsync("orders");

            var received = await receiver.WaitForAsync(orderId, "order.created", Patience);
            Assert.NotNull(received);
            Assert.True(WebhookReceiver.SignatureIsValid(secret, received));
        }
        finally
        {
            await RetryAsync(async () => (await (await shop.AdminAsync()).DeleteAsync($"/orders/webhooks/{hookId}")).EnsureSuccessStatusCode());
        }
    }

    private async Task<HttpResponseMessage> PollAsync(string path, HttpStatusCode status, string? bodyContains = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        HttpResponseMessage? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await shop.Client().GetAsync(path);
                if (last.StatusCode == status && (bodyContains is null || (await last.Content.ReadAsStringAsync()).Contains(bodyContains)))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(250);
        }
        Assert.Fail($"{path} never answered {(int)status} {bodyContains}; last: {(int?)last?.StatusCode} {(last is null ? "" : await last.Content.ReadAsStringAsync())}");
        return null!;
    }

    private static async Task RetryAsync(Func<Task> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception) when (attempt < 30)
            {
                await Task.Delay(1000);
            }
        }
    }
}

/// <summary>Faults while a bounded load of placements, reads and cancellations runs; stock reconciled after each.</summary>
[Collection(ExclusiveCollection.Name)]
public sealed class FaultsUnderLoadTests(ShopApp shop, ITestOutputHelper output)
{
    private async Task RunAsync(string resource, Func<Task> whileDown)
    {
        var skus = new List<string>();
        var initial = new Dictionary<string, int>();
        for (var i = 0; i < 3; i++)
        {
            var sku = await shop.NewItemAsync(qty: 500);
            skus.Add(sku);
            initial[sku] = 500;
        }
        var shoppers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => shop.NewUserAsync()));

        var load = new OrderLoad(shoppers, skus).Start(workers: 4, maxRequestsPerWorker: 300);
        try
        {
            await Task.Delay(1500);
            await shop.StopResourceAsync(resource);
            try
            {
                await whileDown();
                await Task.Delay(3000);
            }
            finally
            {
                await shop.StartAndWaitHealthyAsync(resource);
            }
            await Task.Delay(2000);
        }
        finally
        {
            await load.DisposeAsync();
        }
        output.WriteLine($"{resource}: placed {load.Placed}, refused {load.Refused}, 5xx/unreachable {load.ServerErrors}");
        Assert.True(load.Placed > 0, "the load placed no orders at all");
        await StockLedger.AssertConsistentAsync(shop, initial, shoppers.Select(s => s.User.Id));
    }

    [Fact]
    public Task Inventory_restart_under_load_loses_no_stock() => RunAsync("inventory", async () =>
    {
        var (client, _) = await shop.NewUserAsync();
        var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku = "ANY-SKU", qty = 1 } } });
        Assert.Equal(503, (int)response.StatusCode);
    });

    [Fact]
    public Task Redis_restart_under_load_loses_no_stock() => RunAsync("redis", async () =>
    {
        var health = await shop.Client().GetAsync("/orders/healthz");
        Assert.Equal(200, (int)health.StatusCode);
    });

    [Fact]
    public Task Orders_database_restart_under_load_loses_no_stock() => RunAsync("orders-db", async () =>
    {
        await Task.Delay(1000);
        var admin = await shop.AdminAsync();
        var response = await admin.GetAsync("/orders/");
        var problem = await response.ExpectProblemAsync(503);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
        var text = problem.GetRawText();
        Assert.DoesNotContain("Npgsql", text);
        Assert.DoesNotContain("   at ", text);
    });

    [Fact]
    public async Task Users_restart_under_load_login_fails_fast_but_issued_tokens_keep_working()
    {
        var sku = await shop.NewItemAsync();
        var (client, user) = await shop.NewUserAsync();
        await (await client.GetAsync("/orders/")).ExpectAsync(200); // Orders has Users' keys now
        await RunAsync("users", async () =>
        {
            // A pooled connection to the stopped process may fail once before the refusal shows; bounded.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            HttpResponseMessage login;
            do
            {
                login = await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password });
            }
            while ((int)login.StatusCode is not (502 or 503 or 504) && DateTime.UtcNow < deadline);
            // SPEC §5: a service that is down gives a 502/503/504 problem, never a hang past 30 s.
            // A single instance listens on its own port (no proxy in between), so the gateway's
            // connection is refused at once, and the gateway says so: 503 with Retry-After.
            Assert.Equal(503, (int)login.StatusCode);
            Assert.Equal("application/problem+json", login.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(login.Headers.RetryAfter);
            await (await client.GetAsync("/orders/")).ExpectAsync(200);
            await (await client.GetAsync($"/inventory/{sku}")).ExpectAsync(200);
            // Placing an order needs Users (is the account active?): refused cleanly.
            await (await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } })).ExpectProblemAsync(503);
        });
        Assert.Equal(1000, await client.StockAsync(sku));
    }
}
