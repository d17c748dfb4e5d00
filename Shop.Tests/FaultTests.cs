using Aspire.Hosting.Testing;
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
public sealed class FaultTests(ShopApp shop)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Orders' inventory client's MaxRetryAttempts (InternalServiceClients).</summary>
    private const int InventoryRetries = 2;

    /// <summary>
    /// A service that starts while Users is away has not fetched the keys that sign access tokens: a valid token is
    /// then a 503 naming Users (try again shortly), not a 401 telling the shopper to sign in again, and it works
    /// once Users is back.
    /// </summary>
    [Fact]
    public async Task A_service_started_while_users_is_away_answers_503_not_401_to_a_valid_token()
    {
        var sku = await shop.NewItemAsync();
        var (client, _) = await shop.NewUserAsync();
        await shop.StopResourceAsync("users");
        try
        {
            await shop.StopResourceAsync("inventory");
            await shop.StartAndWaitHealthyAsync("inventory");
            var response = await client.GetAsync($"/inventory/{sku}");
            var problem = await response.ExpectUnavailableAsync("users");
            Assert.False(response.Headers.WwwAuthenticate.Count > 0, "a 503 that asks for a new token");
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("users");
        }
        var answered = await Eventually.ReadUntilAsync(async () => (await client.GetAsync($"/inventory/{sku}")).StatusCode,
            s => s == HttpStatusCode.OK, Patience, TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, answered);
    }

    /// <summary>
    /// With Redis and Users both away nothing can say whether a token's account changed: a signed-in request is a
    /// 503 naming Users. The outage is logged as one (Redis' client; an opened circuit to Users); the 503 is its expected
    /// answer and is not (JwtBearer logs any exception its events throw at Error), nor is the last failed try to reach Users.
    /// </summary>
    [Fact]
    public async Task Users_and_redis_away_make_a_signed_in_read_503_without_an_error_logged()
    {
        var sku = await shop.NewItemAsync();
        var (client, _) = await shop.NewUserAsync();
        await (await client.GetAsync($"/inventory/{sku}")).ExpectAsync(200); // Inventory has Users' keys
        var from = DateTimeOffset.UtcNow;
        await shop.StopResourceAsync("users");
        try
        {
            await shop.StopResourceAsync("redis");
            try
            {
                var response = await client.GetAsync($"/inventory/{sku}");
                await response.ExpectUnavailableAsync("users");
            }
            finally
            {
                await shop.StartResourceAsync("redis");
            }
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("users"); // Users waits for Redis
        }
        // What reports the outage itself stays an error: Redis' lost connections, a circuit to Users opened (none for one
        // request). The failed tries to reach Users are per request, below Warning: Inventory logs the outcome itself.
        var errors = (await shop.ErrorEntriesAsync(["inventory", "gateway"], from))
            .Select(e => (Entry: e, First: e.Split('\n')[0]))
            .Where(e => !e.First.Contains("fail: StackExchange.Redis.ConnectionMultiplexer[", StringComparison.Ordinal)
                && !(e.First.Contains("fail: Polly[", StringComparison.Ordinal) && e.Entry.Contains("OnCircuitOpened", StringComparison.Ordinal)))
            .Select(e => e.Entry).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        await PollAsync("/inventory/healthz", HttpStatusCode.OK, "healthy");
    }

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
            await login.ExpectUnavailableAsync("database");
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
        var (client, user) = await shop.NewUserAsync();
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
            // Sign-in is refused for LoginThrottle:CountAloneAfter (5 s) after Users loses Redis (a stall or a
            // reconnection is usually shorter), then throttled on each instance alone: Redis away stops no one.
            var signIn = await UntilAsync(() => shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password }),
                r => r.StatusCode != HttpStatusCode.ServiceUnavailable);
            await signIn.ExpectAsync(200);
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
        // The load tests before this one can leave Orders' release worker returning hundreds of failed orders'
        // stock. Its calls to a stopped Inventory would open the circuit before this placement's first try
        // (CI-like run A of session 19: "0 attempts"), so Inventory is stopped only once nothing is pending: a release
        // still backing off from an earlier test would come due while Inventory is away.
        await WaitUntilNoStockReleaseIsPendingAsync();
        // The placements below are tried on a fresh circuit. Orders' circuit to Inventory counts every call of its inventory
        // client in its sampling window, whoever made it: earlier calls (another test's, the release worker's) could open it
        // before or between the placements here, which were then refused untried ("no reservation reached the stand-in").
        // Restarted, Orders has counted none: the counted placement's tries are the first it counts; with the release of
        // that order's stock (the release worker, at once, 3 tries) and the second placement's, 9 calls stay under the
        // 10 it takes to open. Orders is restarted before Inventory stops: its start waits for Inventory.
        var fresh = DateTimeOffset.UtcNow;
        await shop.StopResourceAsync("orders");
        await shop.StartAndWaitHealthyAsync("orders");
        var ready = await UntilAsync(() => client.GetAsync("/orders/"), r => r.StatusCode != HttpStatusCode.ServiceUnavailable);
        await ready.ExpectAsync(200);
        await shop.StopResourceAsync("inventory");
        try
        {
            // How many tries a placement makes (Polly says each at Information, not written): something of the test's own
            // on Inventory's port counts the reservations asked for and hangs up on each, a failure as quick as a refusal.
            await using (var standIn = new HangUpListener(shop.App.GetEndpoint("inventory", "http").Port))
            {
                var counted = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } });
                await counted.ExpectUnavailableAsync("inventory");
                var tries = standIn.RequestLines.Count(l => l.StartsWith("POST /internal/reservations/ ", StringComparison.Ordinal));
                var asked = string.Join("\n", standIn.RequestLines);
                // The precondition, not assumed: had the circuit opened, the count would say nothing about the retries.
                var opened = (await shop.LogLinesAsync("orders", fresh))
                    .Where(l => l.Contains("EventName: 'OnCircuitOpened', Source: 'InventoryClient", StringComparison.Ordinal)).ToList();
                Assert.True(opened.Count == 0, $"Orders' circuit to Inventory opened during the test, so its tries were cut short ({tries} counted):\n{string.Join("\n", opened)}");
                Assert.True(tries >= 1, $"no reservation reached the stand-in on Inventory's port (is a proxy in front of it?); it was asked:\n{asked}");
                // Orders' inventory client makes one try and MaxRetryAttempts more.
                Assert.True(tries == 1 + InventoryRetries, $"one placement made {tries} tries at Inventory, not 1 + {InventoryRetries}; asked:\n{asked}");
            }

            // With nothing on Inventory's port.
            var ordersLog = new LogTail(shop.ResourceLogPath("orders"));
            var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } });
            await response.ExpectUnavailableAsync("inventory");
            // Fast because the stopped service refuses the connection, never a try that waits out its timeout. The
            // placement's refusal (its outage's Warning, or its Debug line) says why.
            const string refusalLine = "Dependency unavailable: inventory";
            var log = await ordersLog.WaitForAsync(refusalLine);
            var refusal = log.Split('\n').LastOrDefault(l => l.Contains(refusalLine, StringComparison.Ordinal));
            Assert.True(refusal is not null, $"no line of what orders logged since the placement contains \"{refusalLine}\":\n{log}");
            Assert.True(refusal.Contains("Connection refused", StringComparison.Ordinal), "the placement was not refused for a refused connection:\n" + log);
            Assert.DoesNotContain("OnTimeout", log);

            var mine = await (await client.GetAsync("/orders/")).JsonAsync();
            Assert.Equal(0, mine.GetProperty("total").GetInt32());
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("inventory");
        }
        await PollAsync("/inventory/healthz", HttpStatusCode.OK);
        // Orders' circuit to Inventory may still be open for a few seconds: only that is waited out.
        var placed = await UntilAsync(() => client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } }),
            r => r.StatusCode != HttpStatusCode.ServiceUnavailable);
        await placed.ExpectAsync(201);
        Assert.Equal(9, await client.StockAsync(sku));
        var after = await (await client.GetAsync("/orders/")).JsonAsync();
        Assert.Equal(1, after.GetProperty("total").GetInt32());
    }

    /// <summary>
    /// A reservation that waits out its try's limit at Inventory (its item's row held past ServiceClients:QueuedAttemptTimeout)
    /// is answered 503, and Orders logs that outcome itself (a Warning naming Inventory). The resilience telemetry logged the
    /// try's timeout at Error as well, before the retry and circuit breaker had decided anything: one red line per slow try
    /// that was no fault of the shop's. A timed-out try is a Warning; an opened circuit stays an Error.
    /// </summary>
    [Fact]
    public async Task An_inventory_try_that_times_out_is_logged_as_a_warning_not_an_error()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (client, _) = await shop.NewUserAsync();
        await WaitUntilNoStockReleaseIsPendingAsync();
        var from = DateTimeOffset.UtcNow;
        await using var holder = await shop.OpenDatabaseAsync("inventorydb");
        await using (var hold = await holder.BeginTransactionAsync())
        {
            await Sql.ExecuteAsync(holder, "SELECT 1 FROM inventory WHERE sku = @sku FOR UPDATE", ("sku", sku));
            var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } });
            await response.ExpectUnavailableAsync("inventory");
            await hold.RollbackAsync();
        }
        var until = DateTimeOffset.UtcNow;

        var lines = await shop.LogLinesAsync("orders", from, until);
        Assert.True(lines.Any(l => l.Contains("OnTimeout", StringComparison.Ordinal)), "no try timed out:\n" + string.Join("\n", lines));
        var errors = await shop.ErrorEntriesAsync(["orders"], from, until, containing: "Polly");
        Assert.True(errors.Count == 0, "the resilience telemetry logged a timed-out try as an Error:\n" + string.Join("\n\n", errors));
    }

    [Fact]
    public async Task Orders_queued_on_a_busy_items_stock_are_waited_for_and_other_items_keep_selling()
    {
        var busy = await shop.NewItemAsync(qty: 100);
        var other = await shop.NewItemAsync(qty: 100);
        var shoppers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => shop.NewUserAsync()));
        await WaitUntilNoStockReleaseIsPendingAsync();

        // Someone holds the busy item's stock row (a long stock edit, or a queue of buyers on a slow
        // machine): reservations for it wait on the row lock. Ten of them fill the circuit breaker's
        // minimum sample, and the pool keeps two connections for everything else.
        await using var holder = await shop.OpenDatabaseAsync("inventorydb");
        await using var hold = await holder.BeginTransactionAsync();
        await Sql.ExecuteAsync(holder, "SELECT 1 FROM inventory WHERE sku = @sku FOR UPDATE", ("sku", busy));
        var queued = Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            shoppers[i % shoppers.Length].Client.PostJsonAsync("/orders/", new { items = new[] { new { sku = busy, qty = 1 } } })));

        // Past the 4 s a try used to get: those tries were cut off, counted as Inventory failing, and the
        // circuit opened for every item; their retries started again at the back of the lock's queue.
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        Assert.False(queued.IsCompleted, "the orders for the busy item did not wait for its lock");
        var meanwhile = await shoppers[0].Client.PostJsonAsync("/orders/", new { items = new[] { new { sku = other, qty = 1 } } });
        await hold.CommitAsync();
        await meanwhile.ExpectAsync(201);

        var responses = await queued;
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(90, await shoppers[0].Client.StockAsync(busy));
        Assert.Equal(99, await shoppers[0].Client.StockAsync(other));
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
            var admin2 = await shop.AdminAsync();
            var deleted = await UntilAsync(() => admin2.DeleteAsync($"/orders/webhooks/{hookId}"), r => r.StatusCode != HttpStatusCode.ServiceUnavailable);
            Assert.True(deleted.IsSuccessStatusCode, $"deleting the subscription answered {(int)deleted.StatusCode}");
        }
    }

    /// <summary>
    /// A delivery under way when Orders stops is finished and recorded before the process exits: its row says
    /// delivered, so the restarted service does not send it again (at least once, but not again for no reason).
    /// The subscriber holds the request until Orders has stopped taking requests. Not sent again is checked where
    /// it shows, at the subscriber: once the restarted Orders has recorded a later order's delivery (its dispatcher
    /// claims the oldest due rows first, so a re-send would be in that batch or an earlier one, and a batch is
    /// recorded after each of its deliveries was answered), the subscriber has had the first order's delivery
    /// exactly once.
    /// </summary>
    [Fact]
    public async Task A_delivery_under_way_when_orders_stops_is_recorded_and_not_sent_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        var restarted = false;
        Task? stopping = null;
        try
        {
            receiver.HoldUntilReleased(TimeSpan.FromSeconds(7.5)); // under the test app's 8 s attempt timeout
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            Assert.True(await receiver.WaitForInFlightAsync(Patience), "the delivery never reached the subscriber");

            stopping = shop.StopResourceAsync("orders");
            var stopped = await Eventually.ReadUntilAsync(async () =>
            {
                try
                {
                    return (await shop.Client().GetAsync("/orders/healthz")).StatusCode != HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return true;
                }
            }, ok => ok, TimeSpan.FromSeconds(7), TimeSpan.FromMilliseconds(50));
            Assert.True(stopped, "Orders did not stop taking requests while the delivery was held");
            receiver.Release();
            await stopping;
            Assert.Equal(0, receiver.HeldUntilTimeout);

            await using (var orders = await shop.OpenDatabaseAsync("ordersdb"))
            {
                var delivered = await Sql.ScalarAsync(orders,
                    "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = @hook AND order_id = @order AND status = 'delivered' AND attempts = 1",
                    ("hook", Guid.Parse(hookId)), ("order", Guid.Parse(orderId)));
                Assert.True(delivered == 1, "the delivery made while Orders stopped was not recorded as delivered");
            }
            await shop.StartAndWaitHealthyAsync("orders");
            restarted = true;

            var laterId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            await WebhookTests.WaitForDeliveryAsync(admin, hookId, laterId, "delivered");
            var sent = receiver.Arrived.Count(r => r.OrderId == orderId && r.EventType == "order.created");
            Assert.True(sent == 1, $"the subscriber got the delivery made while Orders stopped {sent} times");
        }
        finally
        {
            receiver.Release();
            if (stopping is not null && !restarted)
            {
                // A start sent while the stop is still under way would be refused or undone.
                await stopping.ContinueWith(_ => { }, TaskScheduler.Default);
                await shop.StartAndWaitHealthyAsync("orders");
            }
            var admin2 = await shop.AdminAsync();
            var deleted = await UntilAsync(() => admin2.DeleteAsync($"/orders/webhooks/{hookId}"), r => r.StatusCode != HttpStatusCode.ServiceUnavailable);
            Assert.True(deleted.IsSuccessStatusCode, $"deleting the subscription answered {(int)deleted.StatusCode}");
        }
    }

    /// <summary>
    /// Orders' circuit to Inventory counts every call of its inventory client, the release worker's too, so a fault test
    /// starts with no stock release pending at all, not only none due: a release backing off from an earlier test (up to
    /// 5 minutes while Inventory was away) or an abandoned placement's guard (due 2 minutes on) would come due in the middle
    /// of the test and add its calls. Every pending release is made due now, as the worker does itself once Inventory answers
    /// again (the update wakes it), and the test waits until the worker has given them all back. Sound because this
    /// collection runs alone and no placement is under way here, so each row left is one the worker would release anyway.
    /// </summary>
    private async Task WaitUntilNoStockReleaseIsPendingAsync()
    {
        await using var orders = await shop.OpenDatabaseAsync("ordersdb");
        await Sql.ExecuteAsync(orders, "UPDATE stock_releases SET due_at = clock_timestamp() WHERE due_at > clock_timestamp()");
        var pending = await Eventually.ReadUntilAsync(() => Sql.ScalarAsync(orders, "SELECT count(*) FROM stock_releases"),
            n => n == 0, Patience, TimeSpan.FromMilliseconds(250));
        Assert.True(pending == 0, $"{pending} stock releases still pending {Patience.TotalSeconds:0} s after they were made due: the release worker is not draining them.");
    }

    private async Task<HttpResponseMessage> PollAsync(string path, HttpStatusCode status, string? bodyContains = null)
    {
        HttpResponseMessage? last = null; // the last answer, when the last attempt failed to connect too
        var answered = await Eventually.ReadUntilAsync(async () =>
        {
            try
            {
                last = await shop.Client().GetAsync(path);
                return last.StatusCode == status && (bodyContains is null || (await last.Content.ReadAsStringAsync()).Contains(bodyContains));
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, ok => ok, Patience, TimeSpan.FromMilliseconds(250));
        Assert.True(answered, $"{path} never answered {(int)status} {bodyContains}; last: {(int?)last?.StatusCode} {(last is null ? "" : await last.Content.ReadAsStringAsync())}");
        return last!;
    }

    /// <summary>
    /// Sends <paramref name="request"/> until its answer satisfies <paramref name="done"/> (a 503 while a restarted
    /// dependency comes back), within <see cref="Patience"/>, and returns that answer for the caller to assert on.
    /// Only the condition is retried: an assertion failure is never swallowed, and running out of patience
    /// fails with the last answer.
    /// </summary>
    internal static async Task<HttpResponseMessage> UntilAsync(Func<Task<HttpResponseMessage>> request, Func<HttpResponseMessage, bool> done)
    {
        var response = await Eventually.ReadUntilAsync(request, done, Patience, TimeSpan.FromMilliseconds(500));
        if (!done(response))
        {
            Assert.Fail($"still {(int)response.StatusCode} after {Patience.TotalSeconds} s from {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
        }
        return response;
    }
}

/// <summary>Faults while a bounded load of placements, reads and cancellations runs; stock reconciled after each.</summary>
[Collection(ExclusiveCollection.Name)]
public sealed class FaultsUnderLoadTests(ShopApp shop, ITestOutputHelper output)
{
    private async Task RunAsync(string resource, Func<Task> whileDown)
    {
        var started = DateTimeOffset.UtcNow;
        var skus = new List<string>();
        var initial = new Dictionary<string, int>();
        for (var i = 0; i < 3; i++)
        {
            var sku = await shop.NewItemAsync(qty: 500);
            skus.Add(sku);
            initial[sku] = 500;
        }
        var shoppers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => shop.NewUserAsync()));

        var load = new OrderLoad(shoppers, skus).Start(workers: 4, maxRequestsPerWorker: 3000);
        try
        {
            await load.WaitUntilAsync(() => load.Placed > 0, "an order placed before the fault");
            await shop.StopResourceAsync(resource);
            try
            {
                await whileDown();
                // Keep the fault while the load runs into it.
                var sent = load.Sent;
                await load.WaitUntilAsync(() => load.Sent >= sent + 40, "40 requests during the fault");
            }
            finally
            {
                await shop.StartAndWaitHealthyAsync(resource);
            }
            var placed = load.Placed;
            await load.WaitUntilAsync(() => load.Placed > placed, "an order placed after the restart");
        }
        finally
        {
            await load.DisposeAsync();
        }
        output.WriteLine($"{resource}: placed {load.Placed}, refused {load.Refused}, unavailable {load.Unavailable}");
        // While something is away, an answer is a 503 with Retry-After (or a 502 for a request its service
        // dropped as it stopped); a generic 500, any other 5xx or a broken connection to the gateway is a defect.
        if (!load.Unexpected.IsEmpty)
        {
            // The answers only quote a request id; the services' logs say what threw (CI keeps no log files to read).
            var thrown = await shop.ErrorEntriesAsync(ShopAppHost.ServiceNames, started, containing: "Unhandled exception", linesPerEntry: 16);
            Assert.Fail($"{resource}: {load.Unexpected.Count} unexpected answers:\n{string.Join("\n", load.Unexpected.Take(10))}\n\nlogged as unhandled:\n{string.Join("\n\n", thrown.Take(3))}");
        }
        await StockLedger.AssertConsistentAsync(shop, initial, shoppers.Select(s => s.User.Id));
    }

    [Fact]
    public Task Inventory_restart_under_load_loses_no_stock() => RunAsync("inventory", async () =>
    {
        var (client, _) = await shop.NewUserAsync();
        var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku = "ANY-SKU", qty = 1 } } });
        await response.ExpectUnavailableAsync("inventory");
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
        var admin = await shop.AdminAsync();
        // Until its pooled connections notice, a read may still be served: wait for the first answer that is not.
        var response = await FaultTests.UntilAsync(() => admin.GetAsync("/orders/"), r => r.StatusCode != HttpStatusCode.OK);
        await response.ExpectUnavailableAsync("database");
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
            var login = await Eventually.ReadUntilAsync(() => shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password }),
                r => (int)r.StatusCode is 502 or 503 or 504, TimeSpan.FromSeconds(30), TimeSpan.Zero);
            // A service that is down gives a 5xx problem at once, never a hang.
            // A single instance listens on its own port (no proxy in between), so the gateway's
            // connection is refused at once, and the gateway says so: 503 with Retry-After, naming Users.
            await login.ExpectUnavailableAsync("users service");
            await (await client.GetAsync("/orders/")).ExpectAsync(200);
            await (await client.GetAsync($"/inventory/{sku}")).ExpectAsync(200);
            // Placing this account's first order needs Users (is the account active?): refused cleanly.
            await (await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } })).ExpectProblemAsync(503);
        });
        Assert.Equal(1000, await client.StockAsync(sku));
    }
}
