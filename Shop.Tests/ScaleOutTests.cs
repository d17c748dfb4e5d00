using System.Net;
using Npgsql;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The race, idempotency, throttling and webhook guarantees with two instances of Users, Orders and
/// Inventory behind Aspire's load-balancing proxies: nothing may rely on one process's memory.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class ScaleOutTests(ScaledShopApp shop)
{
    [Fact]
    public void Every_replica_is_connected_to_Redis_before_its_first_request()
    {
        // Connecting on the first request stalled a fresh replica's thread pool for seconds, and the
        // health probe (through the proxy) reaches only one replica: so check the snapshot taken at start.
        foreach (var service in new[] { "Shop.Users", "Shop.Orders", "Shop.Inventory" })
        {
            var processes = shop.RedisClientsAtStart.Where(n => n.StartsWith(service + "/", StringComparison.Ordinal)).ToList();
            Assert.True(processes.Count == 2, $"{service}: {processes.Count} of 2 replicas connected at start ({string.Join(", ", shop.RedisClientsAtStart)})");
        }
    }

    [Fact]
    public async Task Racing_orders_across_replicas_sell_exactly_the_stock()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var shoppers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => shop.NewUserAsync()));
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            shoppers[i % shoppers.Length].Client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } })));
        // A 5xx first, as it explains a short count: a reservation that timed out holds its stock until released.
        Assert.DoesNotContain(responses, r => (int)r.StatusCode >= 500);
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        await StockLedger.AssertConsistentAsync(shop, new Dictionary<string, int> { [sku] = 10 }, shoppers.Select(s => s.User.Id));
    }

    [Fact]
    public async Task One_idempotency_key_makes_one_order_across_replicas()
    {
        var sku = await shop.NewItemAsync(qty: 100);
        var (client, user) = await shop.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 3 } } }, r => r.Headers.Add("Idempotency-Key", key))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.JsonAsync()).GetProperty("id").GetString()));
        Assert.Single(ids.Distinct());
        await StockLedger.AssertConsistentAsync(shop, new Dictionary<string, int> { [sku] = 100 }, [user.Id]);
    }

    [Fact]
    public async Task Login_throttling_counts_across_replicas()
    {
        var (_, user) = await shop.NewUserAsync();
        // Twenty concurrent guesses spread over both replicas: counted in one place, so at most five are
        // checked in all (per-replica counting would let up to ten through).
        var burst = System.Diagnostics.Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "nope-" + i })));
        burst.Stop();
        var checkedGuesses = answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized);
        Assert.InRange(checkedGuesses, 1, IdentityTests.GuessesCheckedAtMost(burst.Elapsed));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Unauthorized), IdentityTests.AssertRefusedUnchecked);
    }

    [Fact]
    public async Task Login_throttling_still_counts_across_replicas_while_Redis_answers_late()
    {
        var (_, user) = await shop.NewUserAsync();
        // A script that keeps Redis busy for 2.5 s: every command sent meanwhile is answered after the
        // services' 1 s Redis timeout, as on a machine too loaded to run Redis in time. A late count may still
        // have been made, so it is no reason to count on one replica alone (which let 5 guesses per replica
        // through, 10 in all).
        await using var redis = await shop.ConnectRedisAsync(",asyncTimeout=15000,syncTimeout=15000");
        var busy = redis.GetDatabase(0).ScriptEvaluateAsync("""
            local t = redis.call('TIME')
            local start = t[1] * 1000000 + t[2]
            repeat
              local n = redis.call('TIME')
            until n[1] * 1000000 + n[2] - start > tonumber(ARGV[1])
            return 1
            """, [], [2_500_000]);
        await Task.Delay(200);
        var burst = System.Diagnostics.Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "nope-" + i })));
        burst.Stop();
        await busy;
        await shop.WaitUntilRedisClientsAreBackAsync();
        var codes = string.Join(", ", answers.GroupBy(a => (int)a.StatusCode).Select(g => $"{g.Count()}× {g.Key}"));
        var checkedGuesses = answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized);
        Assert.True(checkedGuesses <= IdentityTests.GuessesCheckedAtMost(burst.Elapsed),
            $"{checkedGuesses} of 20 guesses had their password checked in {burst.Elapsed.TotalMilliseconds:0} ms while Redis answered late ({codes})");
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Unauthorized), IdentityTests.AssertRefusedUnchecked);
    }

    [Fact]
    public async Task A_webhook_leaves_when_its_order_commits_and_the_other_replicas_hear_of_it_after_the_commit()
    {
        // Not inside the transaction: a NOTIFY there makes the commit take PostgreSQL's server-wide
        // notification lock through its WAL flush, which serialised every order's commit (docs/performance.md, Round 6).
        await using var listener = await shop.OpenDatabaseAsync("ordersdb");
        await using (var triggers = new NpgsqlCommand("SELECT string_agg(tgname, ', ') FROM pg_trigger WHERE tgrelid = 'webhook_deliveries'::regclass AND NOT tgisinternal", listener))
        {
            var names = await triggers.ExecuteScalarAsync();
            Assert.True(names is DBNull, $"triggers on the outbox: {names}");
        }
        // What the other replicas hear instead: the writer's announcement on the channel they listen to.
        var heard = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Notification += (_, e) => heard.TrySetResult(e.Payload);
        await Sql.ExecuteAsync(listener, "LISTEN webhook_outbox");

        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;

            // Orders polls its outbox every ScaledShopApp.SlowFallbackPoll here; only the wake-up after the
            // commit can bring the delivery within this wait.
            var received = await receiver.WaitForAsync(orderId, "order.created", TimeSpan.FromSeconds(30));
            Assert.True(received is not null, $"order.created for {orderId} was not delivered within 30 s (poll interval {ScaledShopApp.SlowFallbackPoll})");

            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!heard.Task.IsCompleted)
            {
                await listener.WaitAsync(patience.Token);
            }
            Assert.False(string.IsNullOrEmpty(await heard.Task), "the announcement names no replica, so the writer's own listener cannot tell it from another replica's");
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_webhook_announced_by_another_replica_wakes_the_dispatchers_without_waiting_for_the_poll()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, secret) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            // An outbox row committed over SQL as the service's role, then announced as a replica's
            // OutboxAnnouncer does, stands in for a replica no dispatcher here shares memory with: only the
            // database can tell them.
            await using var db = await OpenOrdersAsAppAsync();
            var orderId = (await WebhookTests.InsertDeliveriesAsync(db, hookId, userId: 0, count: 1, dueAgo: TimeSpan.Zero))[0];

            var received = await receiver.WaitForAsync(orderId.ToString(), "order.created", TimeSpan.FromSeconds(30));
            Assert.True(received is not null, $"an outbox row announced by another process was not delivered within 30 s (poll interval {ScaledShopApp.SlowFallbackPoll})");
            Assert.True(WebhookReceiver.SignatureIsValid(secret, received));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_stock_release_made_due_by_another_process_is_performed_without_waiting_for_the_poll()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var orderId = Guid.NewGuid();
        var inventory = shop.ServiceClient("inventory", withServiceKey: true);
        await (await inventory.PostJsonAsync("/internal/reservations/", new { order_id = orderId, items = new[] { new { sku, qty = 4 } } })).ExpectAsync(200);
        var admin = await shop.AdminAsync();
        Assert.Equal(6, await admin.StockAsync(sku));

        // The guard a placement writes before reserving, then made due now as a placement that lost
        // Inventory does (StockReleases.ExpediteAsync): here over SQL, as a process no worker shares memory with.
        await using var db = await OpenOrdersAsAppAsync();
        await Sql.ExecuteAsync(db, "INSERT INTO stock_releases (order_id, due_at, attempts, created_at) VALUES (@order, now() + interval '2 minutes', 0, now())", ("order", orderId));
        await Sql.ExecuteAsync(db, "UPDATE stock_releases SET due_at = now() WHERE order_id = @order", ("order", orderId));

        var stock = await Eventually.ReadUntilAsync(() => admin.StockAsync(sku), s => s == 10, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.True(stock == 10,
            $"the stock of a release made due was not returned within 30 s (release poll interval {ScaledShopApp.SlowFallbackPoll}, guard due in 2 minutes)");
    }

    [Fact]
    public async Task A_failed_delivery_is_retried_when_it_falls_due_without_waiting_for_the_poll()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            // The first attempt answers 500. Nothing announces the retry: only the next due time the job reads
            // after its pass wakes a dispatcher for it (this app's schedule's first wait, 1 s ± 20 %) before
            // the 10-minute poll.
            const int userId = 4242;
            receiver.FailFirst(userId, 1);
            await using var db = await OpenOrdersAsAppAsync();
            var orderId = (await WebhookTests.InsertDeliveriesAsync(db, hookId, userId, count: 1, dueAgo: TimeSpan.Zero))[0];

            var received = await receiver.WaitForAsync(orderId.ToString(), "order.created", TimeSpan.FromSeconds(40));
            Assert.True(received is not null,
                $"a delivery that failed its first attempt was not retried within 40 s ({receiver.AttemptsFor(userId)} attempt(s) seen; poll interval {ScaledShopApp.SlowFallbackPoll})");
            Assert.Equal(2, receiver.AttemptsFor(userId));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_subscriber_that_is_down_is_probed_by_one_replica_when_its_pause_ends()
    {
        // Every replica's job sleeps until the pause ends and then starts a lane for the subscriber. Each failed probe
        // lengthens the subscriber's unavailable streak by one, so with one probe per pause end the attempts made while
        // it is paused equal the streak's growth; when every replica sent its own, they wrote the same streak for two
        // attempts (or more).
        await using var receiver = new WebhookReceiver(); // never listening
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var subscription = Guid.Parse(hookId);
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            await WebhookTests.InsertDeliveriesAsync(db, hookId, userId: 0, count: 1, dueAgo: TimeSpan.Zero);
            var paused = await Eventually.ReadUntilAsync(() => ProbingAsync(db, subscription), p => p.Streak >= 1 && p.Claimed == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
            Assert.True(paused.Streak >= 1 && paused.Claimed == 0, $"a subscriber that refuses connections was not paused within 30 s (streak {paused.Streak}, {paused.Claimed} claimed)");

            // Deliveries that come while it is paused wait for the probes, and their announcement has both replicas'
            // jobs read when the pause ends. This app's schedule (1, 1, 2, 2, 3 s) gives them up after about 9 s.
            await WebhookTests.InsertDeliveriesAsync(db, hookId, userId: 0, count: 20, dueAgo: TimeSpan.Zero);
            var before = await Eventually.ReadUntilAsync(() => ProbingAsync(db, subscription), p => p.Claimed == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
            var after = await Eventually.ReadUntilAsync(() => ProbingAsync(db, subscription), p => p.Pending == 0, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            Assert.True(after.Pending == 0, $"{after.Pending} deliveries still pending 60 s after they came for a subscriber that is down");
            var (probes, attempts) = (after.Streak - before.Streak, after.Attempts - before.Attempts);
            Assert.True(probes >= 2, $"{probes} failed probes recorded while the subscriber was down");
            Assert.True(attempts == probes, $"{attempts} attempts at the subscriber for {probes} ends of its pause with two Orders replicas");
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    /// <summary>
    /// The subscription's unavailable streak (one more per failed probe), every attempt at it recorded so far, its
    /// deliveries claimed and not recorded yet (their lease still running), and those pending, claimed or not.
    /// </summary>
    private static async Task<(int Streak, long Attempts, long Claimed, long Pending)> ProbingAsync(NpgsqlConnection db, Guid subscription)
    {
        await using var command = new NpgsqlCommand("""
            SELECT s.unavailable_streak,
                   (SELECT coalesce(sum(d.attempts), 0) FROM webhook_deliveries d WHERE d.subscription_id = s.id),
                   (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.leased_until > now()),
                   (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending')
            FROM webhook_subscriptions s WHERE s.id = @id
            """, db);
        command.Parameters.AddWithValue("id", subscription);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>The Orders database as the service's own role, so the triggers run with the rights the service has.</summary>
    private async Task<NpgsqlConnection> OpenOrdersAsAppAsync()
    {
        var db = await shop.OpenDatabaseAsync("ordersdb");
        await Sql.ExecuteAsync(db, "SET ROLE ordersdb_app");
        return db;
    }

    [Fact]
    public async Task Every_webhook_is_delivered_with_two_dispatchers()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, secret) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            var orders = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                orders.Add((await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!);
            }
            foreach (var orderId in orders)
            {
                var received = await receiver.WaitForAsync(orderId, "order.created", TimeSpan.FromSeconds(30));
                Assert.NotNull(received);
                Assert.True(WebhookReceiver.SignatureIsValid(secret, received));
            }
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }
}
