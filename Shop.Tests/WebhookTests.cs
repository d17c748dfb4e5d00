using System.Text.Json;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>Webhooks: signed at-least-once delivery from the outbox to a real receiver on 127.0.0.1 (README, "Webhooks").</summary>
public sealed class WebhookTests(ShopApp shop)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    internal static async Task<(string Id, string Secret)> SubscribeAsync(ShopClient admin, string url, params string[] events)
    {
        var response = await admin.PostJsonAsync("/orders/webhooks", new { url, events });
        await response.ExpectAsync(201);
        var body = await response.JsonAsync();
        return (body.GetProperty("id").GetString()!, body.GetProperty("secret").GetString()!);
    }

    [Fact]
    public async Task Order_created_is_delivered_signed_with_the_spec_body()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, secret) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            var order = await client.PlaceOrderAsync((sku, 2));
            var orderId = order.GetProperty("id").GetString()!;

            var received = await receiver.WaitForAsync(orderId, "order.created", Patience);
            Assert.NotNull(received);
            Assert.True(WebhookReceiver.SignatureIsValid(secret, received), $"bad signature {received.Signature}");
            var body = received.Json;
            Assert.Equal("order.created", body.GetProperty("type").GetString());
            Assert.Equal(body.GetProperty("id").GetString(), received.DeliveryHeader);
            Assert.EndsWith("Z", body.GetProperty("created_at").GetString());
            Assert.Equal(order.GetProperty("total").GetDecimal(), body.GetProperty("data").GetProperty("order").GetProperty("total").GetDecimal());
            Assert.False(WebhookReceiver.SignatureIsValid("wrong-secret-0123456789", received));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task Status_change_is_delivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, secret) = await SubscribeAsync(admin, receiver.Url, "order.status_changed");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            await (await client.PatchJsonAsync($"/orders/{orderId}", new { status = "cancelled" })).ExpectAsync(200);

            var received = await receiver.WaitForAsync(orderId, "order.status_changed", Patience);
            Assert.NotNull(received);
            Assert.True(WebhookReceiver.SignatureIsValid(secret, received));
            Assert.Equal("cancelled", received.Json.GetProperty("data").GetProperty("order").GetProperty("status").GetString());
            Assert.DoesNotContain(receiver.Received, r => r.OrderId == orderId && r.EventType == "order.created");
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    /// <summary>
    /// A subscriber is not a queue of one: under load, one POST at a time is what built a backlog of seconds
    /// (docs/performance.md). What must stay in order is one order's story: created, then its changes. The receiver
    /// logs each delivery as it arrives, before it answers, so the rule is checked where it could break and not by
    /// the order answers happened to come back in: no order ever has two deliveries in flight at once, and each
    /// order's arrivals are its events in event order, each once. The first delivery is held until every order is
    /// placed and cancelled, so the next claim finds both events of most orders due together; each delivery is kept
    /// open a second, so two that went out together are seen together.
    /// </summary>
    [Fact]
    public async Task One_subscribers_deliveries_for_different_orders_go_out_together_and_each_orders_events_in_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.HoldEach(TimeSpan.FromSeconds(1));
        receiver.HoldUntilReleased(TimeSpan.FromSeconds(6)); // both under the test app's 8 s attempt timeout
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created", "order.status_changed");
        try
        {
            var sku = await shop.NewItemAsync(qty: 100);
            var (client, _) = await shop.NewUserAsync();
            var orders = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
                orders.Add(orderId);
                if (i == 0)
                {
                    Assert.True(await receiver.WaitForInFlightAsync(Patience), "no delivery reached the subscriber");
                }
                await (await client.PatchJsonAsync($"/orders/{orderId}", new { status = "cancelled" })).ExpectAsync(200);
            }
            receiver.Release();
            foreach (var orderId in orders)
            {
                Assert.NotNull(await receiver.WaitForAsync(orderId, "order.status_changed", Patience));
            }

            var overlapping = receiver.OrdersWithTwoInFlight.Where(orders.Contains).Distinct().ToList();
            Assert.True(overlapping.Count == 0, $"{overlapping.Count} of {orders.Count} orders had two deliveries in flight to the subscriber at once");
            Assert.True(receiver.MaxInFlight >= 2, $"at most {receiver.MaxInFlight} delivery in flight to one subscriber at a time");
            var arrived = receiver.Arrived.ToList();
            foreach (var orderId in orders)
            {
                var events = arrived.Where(r => r.OrderId == orderId).Select(r => r.EventType).ToList();
                Assert.Equal(["order.created", "order.status_changed"], events);
            }
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    /// <summary>
    /// A lane whose lease ran out (a stalled replica) comes back with an outcome for a row another lane has since
    /// sent and recorded: the late outcome is not written. Here the other lane's record is written over SQL while
    /// this one's attempt is held open, and the held attempt then fails; written, it would put the delivered row
    /// back to pending and send it again.
    /// </summary>
    [Fact]
    public async Task A_late_outcome_does_not_overwrite_a_row_another_lane_recorded()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var userId = Random.Shared.Next(1_000_000, 2_000_000);
            receiver.FailFirst(userId, 1);
            receiver.HoldUntilReleased(TimeSpan.FromSeconds(7));
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            // An order.created subscription gets every order on the shared app: another test's order that reaches it
            // first is held with the lane, and this test's row waits behind it, unsent. Made certain here.
            await InsertDeliveriesAsync(db, hookId, userId + 1, count: 1, dueAgo: TimeSpan.Zero);
            Assert.True(await receiver.WaitForArrivalAsync(userId + 1, Patience), "another order's delivery was not sent");
            var orderId = (await InsertDeliveriesAsync(db, hookId, userId, count: 1, dueAgo: TimeSpan.Zero))[0];
            Assert.True(await receiver.WaitForArrivalAsync(userId, Patience), "the delivery was not sent");

            await Sql.ExecuteAsync(db, """
                UPDATE webhook_deliveries SET status = 'delivered', attempts = 1, last_status_code = 200, delivered_at = now(), leased_until = NULL
                WHERE order_id = @order
                """, ("order", orderId));
            receiver.Release(); // the held attempt answers 500 now

            // The retry schedule's first wait is 1 s (±20 %): a row put back to pending would have been sent again by now.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(1, receiver.AttemptsFor(userId));
            Assert.Equal(1, await Sql.ScalarAsync(db, "SELECT count(*) FROM webhook_deliveries WHERE order_id = @order AND status = 'delivered' AND attempts = 1 AND last_status_code = 200", ("order", orderId)));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_slow_subscriber_does_not_hold_back_another_subscribers_deliveries()
    {
        // Subscribers are separate integrations: one that takes seconds to answer (still within the attempt
        // timeout) must cost only its own deliveries that time, not every other subscriber's.
        await using var slow = await WebhookReceiver.StartAsync();
        slow.HoldUntilReleased(TimeSpan.FromSeconds(7)); // under the test app's 8 s attempt timeout
        await using var fast = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (slowHook, _) = await SubscribeAsync(admin, slow.Url, "order.created");
        var (fastHook, _) = await SubscribeAsync(admin, fast.Url, "order.created");
        try
        {
            // An order.created subscription gets every order on the shared app: another test's order can reach the slow
            // subscriber first, and on a loaded machine its hold can run out before this test's second order is placed.
            // Made certain here.
            await using (var db = await shop.OpenDatabaseAsync("ordersdb"))
            {
                var otherUser = Random.Shared.Next(1_000_000, 2_000_000);
                await InsertDeliveriesAsync(db, slowHook, otherUser, count: 1, dueAgo: TimeSpan.Zero);
                Assert.True(await slow.WaitForArrivalAsync(otherUser, Patience), "another order's delivery did not reach the slow subscriber");
                Assert.True(await Eventually.HoldsAsync(() => slow.HeldUntilTimeout > 0, Patience, TimeSpan.FromMilliseconds(100)),
                    "another order's delivery was not held for the whole 7 s");
            }
            var sku = await shop.NewItemAsync(qty: 10);
            var (client, user) = await shop.NewUserAsync();
            var first = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            Assert.NotNull(await fast.WaitForAsync(first, "order.created", Patience));
            // This test's own delivery held, not only another test's whose hold may have run out meanwhile.
            Assert.True(await slow.WaitForArrivalAsync(user.Id, Patience), "the slow subscriber never got the first order");

            var second = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            Assert.NotNull(await fast.WaitForAsync(second, "order.created", Patience));
            var firstAnswered = slow.Received.Any(r => r.OrderId == first);
            slow.Release();
            Assert.False(firstAnswered, "the fast subscriber got the second order only after the slow subscriber's hold of the first had run out (7 s)");

            Assert.NotNull(await slow.WaitForAsync(first, "order.created", Patience));
            Assert.NotNull(await slow.WaitForAsync(second, "order.created", Patience));
        }
        finally
        {
            slow.Release();
            await admin.DeleteAsync($"/orders/webhooks/{slowHook}");
            await admin.DeleteAsync($"/orders/webhooks/{fastHook}");
        }
    }

    [Fact]
    public async Task An_orders_status_change_waits_while_its_created_event_is_retried()
    {
        // Event order is per order, not per attempt: a failed order.created must not be overtaken by the
        // order's later status change.
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created", "order.status_changed");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, user) = await shop.NewUserAsync();
            receiver.FailFirst(user.Id, 1);
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            await (await client.PatchJsonAsync($"/orders/{orderId}", new { status = "cancelled" })).ExpectAsync(200);

            Assert.NotNull(await receiver.WaitForAsync(orderId, "order.status_changed", Patience));
            Assert.Equal(["order.created", "order.status_changed"], receiver.Received.Where(r => r.OrderId == orderId).Select(r => r.EventType));
            Assert.Equal(3, receiver.AttemptsFor(user.Id));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task Failures_are_retried_and_logged_until_delivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, user) = await shop.NewUserAsync();
            receiver.FailFirst(user.Id, 2);
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            Assert.NotNull(await receiver.WaitForAsync(orderId, "order.created", Patience));
            Assert.Equal(3, receiver.AttemptsFor(user.Id));

            var log = await WaitForDeliveryAsync(admin, hookId, orderId, "delivered");
            Assert.Equal(3, log.GetProperty("attempts").GetInt32());
            Assert.Equal(200, log.GetProperty("last_status_code").GetInt32());
            Assert.Equal("order.created", log.GetProperty("event_type").GetString());
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_subscriber_that_was_down_gets_the_event_when_it_comes_back()
    {
        await using var receiver = new WebhookReceiver(); // not listening yet
        var admin = await shop.AdminAsync();
        var (hookId, secret) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            // Found down by an attempt: this order's, or another test's order that reached the subscriber first
            // and paused it, in which case this order's delivery waits untried.
            var log = await Eventually.ReadUntilAsync(() => DeliveryLogAsync(admin, hookId),
                rows => rows.Any(r => r.Attempts > 0 && !string.IsNullOrEmpty(r.LastError)), Patience, TimeSpan.FromMilliseconds(200));
            Assert.True(log.Any(r => r.Attempts > 0 && !string.IsNullOrEmpty(r.LastError)), "no attempt at the subscriber that is down was logged with its error");
            Assert.Equal("pending", log.Single(r => r.OrderId == Guid.Parse(orderId)).Status);

            await receiver.ListenAsync();
            var received = await receiver.WaitForAsync(orderId, "order.created", Patience);
            Assert.NotNull(received);
            Assert.True(WebhookReceiver.SignatureIsValid(secret, received));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_subscriber_that_is_down_is_probed_one_delivery_at_a_time_and_gets_its_whole_backlog_when_it_comes_back()
    {
        // 100 deliveries due at a subscriber that refuses connections. Tried one by one, each would take an attempt
        // every second or two on this stack's schedule (1, 1, 2, 2, 3 s) and use up its budget while the
        // subscriber is away. Paused instead, the subscriber gets the first batch's attempts already in flight and
        // then one probe per pause; the others wait with their budgets whole and go out once a probe gets through.
        const int Backlog = 100;
        await using var receiver = new WebhookReceiver(); // not listening yet
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            var orders = await InsertDeliveriesAsync(db, hookId, userId: 0, Backlog, dueAgo: TimeSpan.Zero);
            // Counted over all the subscriber's rows: another test's order may reach it first and pause it, and
            // then a probe may be about that order rather than one of these.
            var tried = await Eventually.ReadUntilAsync(() => DeliveryLogAsync(admin, hookId), rows => rows.Sum(r => r.Attempts) > 0, Patience, TimeSpan.FromMilliseconds(100));
            Assert.True(tried.Sum(r => r.Attempts) > 0, "no delivery was attempted");
            // Two or three pauses (1, 1 and 2 s, each ±20 %). Not much longer: a failed probe once these rows are
            // older than the schedule's 9 s would give them up.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var whileDown = await DeliveryLogAsync(admin, hookId);
            var attemptsWhileDown = whileDown.Sum(r => r.Attempts);
            // The first batch's attempts that were in flight before the first refusal came back (about 16), then
            // one probe per pause.
            Assert.True(attemptsWhileDown <= MaxConcurrentPerSubscriber + 10,
                $"{attemptsWhileDown} attempts at a subscriber that refused every connection for 3 s ({whileDown.Count(r => r.Attempts > 0)} of {whileDown.Count} deliveries tried)");
            var waiting = whileDown.Where(r => r.Attempts == 0).ToList();
            Assert.True(waiting.All(r => r.NextAttemptAt > DateTime.UtcNow.AddSeconds(-2)),
                "the log shows deliveries that wait for the subscriber as due in the past");
            // An admin sees that the subscriber is treated as down, and when the next probe goes.
            Assert.NotNull(await PausedUntilAsync(admin, hookId));

            await receiver.ListenAsync();
            Assert.True(await Eventually.HoldsAsync(() => orders.All(o => receiver.Received.Any(r => r.OrderId == o.ToString())), Patience, TimeSpan.FromMilliseconds(200)),
                $"{orders.Count(o => receiver.Received.Any(r => r.OrderId == o.ToString()))} of {Backlog} deliveries arrived within {Patience.TotalSeconds:0} s of the subscriber's return");
            var log = await DeliveryLogAsync(admin, hookId, orders);
            Assert.All(log, r => Assert.Equal("delivered", r.Status));
            Assert.True(log.Sum(r => r.Attempts) <= Backlog + attemptsWhileDown + 5, $"{log.Sum(r => r.Attempts)} attempts in all for {Backlog} deliveries");
            Assert.Null(await PausedUntilAsync(admin, hookId));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_lanes_claim_takes_at_most_its_limit_whatever_plan_the_database_chooses()
    {
        // A probe claims one row and a batch BatchSize rows. Within `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
        // LOCKED)`, a plan that rescans the subquery for each row (a nested-loop semi-join) takes a new row on every
        // rescan once the earlier ones are updated: one CI-like run's probe went out as a batch of 16 at a subscriber
        // that was down. The planner's choice depends on the table's statistics, so both plans are pinned here.
        await using var receiver = new WebhookReceiver(); // never listening: nothing here is sent
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            // Uncommitted, so the running dispatcher never sees these rows, and rolled back at the end.
            await using var transaction = await db.BeginTransactionAsync();
            await InsertDeliveriesAsync(db, hookId, userId: 0, 30, dueAgo: TimeSpan.FromSeconds(1));
            foreach (var (plan, settings) in new[]
            {
                ("the planner's own", ""),
                ("a nested-loop semi-join", "SET LOCAL enable_hashagg = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; " +
                    "SET LOCAL enable_material = off; SET LOCAL enable_sort = off;"),
            })
            {
                if (settings.Length > 0)
                {
                    await Sql.ExecuteAsync(db, settings);
                }
                foreach (var limit in new[] { 1, 5 })
                {
                    var claimed = await ClaimAsync(db, hookId, limit);
                    Assert.True(claimed == limit, $"a claim of {limit} took {claimed} rows with {plan} plan");
                }
            }
            await transaction.RollbackAsync();
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task A_lanes_claim_rewrites_its_rows_in_place_without_new_index_entries()
    {
        // The claim leases the rows it takes. When the lease was written to next_attempt_at, an indexed column, each
        // claimed row was written again with a new entry in every index over a pending row (docs/performance.md,
        // Round 32). In a column no index names, and with room left on the row's page (the table's fillfactor), the
        // claim is a heap-only (HOT) update, which PostgreSQL counts per transaction. Each test row is claimed alone:
        // an insert leaves a tenth of its page free, room for one such row's new version, not for any number.
        await using var receiver = new WebhookReceiver(); // never listening: nothing here is sent
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            // Uncommitted, so the running dispatcher never sees these rows, and rolled back at the end.
            await using var transaction = await db.BeginTransactionAsync();
            const int Rows = 2;
            for (var i = 0; i < Rows; i++)
            {
                await InsertDeliveriesAsync(db, hookId, userId: 0, 1, dueAgo: TimeSpan.FromSeconds(1));
                Assert.Equal(1L, await ClaimAsync(db, hookId, 1));
            }
            var updated = await Sql.ScalarAsync(db, "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'webhook_deliveries'");
            var hot = await Sql.ScalarAsync(db, "SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'webhook_deliveries'");
            Assert.True(updated == Rows && hot == Rows, $"{Rows} claims made {updated} row updates, {hot} of them heap-only (HOT)");
            await transaction.RollbackAsync();
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    [Fact]
    public async Task Deliveries_held_for_a_subscriber_down_longer_than_the_retry_schedule_are_given_up_untried()
    {
        // The schedule (1, 1, 2, 2, 3 s here) bounds how long a delivery is kept, tried or not: a subscriber
        // gone for good does not keep its backlog pending forever, and the log says why each was given up.
        const int Backlog = 60; // more than the first batch's attempts in flight and the probes, so some are never tried
        await using var receiver = new WebhookReceiver(); // never listening
        var admin = await shop.AdminAsync();
        var (hookId, _) = await SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            var orders = await InsertDeliveriesAsync(db, hookId, userId: 0, Backlog, dueAgo: TimeSpan.Zero);
            var log = await Eventually.ReadUntilAsync(() => DeliveryLogAsync(admin, hookId, orders), rows => rows.All(r => r.Status == "failed"), Patience, TimeSpan.FromMilliseconds(200));
            Assert.True(log.All(r => r.Status == "failed"), $"{log.Count(r => r.Status == "failed")} of {Backlog} deliveries given up within {Patience.TotalSeconds:0} s");
            // The first batch's attempts in flight together, then one probe per pause until a failed probe finds the
            // backlog older than the schedule's 9 s: about seven pauses.
            Assert.True(log.Sum(r => r.Attempts) <= MaxConcurrentPerSubscriber + 12,
                $"{log.Sum(r => r.Attempts)} attempts at a subscriber that was never there (per delivery: {string.Join(", ", log.Select(r => r.Attempts))})");
            Assert.Contains(log, r => r.Attempts == 0 && r.LastError!.Contains("unavailable for longer than the retry schedule"));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    /// <summary>Webhooks:MaxConcurrentPerSubscriber's default: a batch's attempts in flight before the first outcome.</summary>
    private const int MaxConcurrentPerSubscriber = 16;

    private sealed record LoggedDelivery(Guid OrderId, string Status, int Attempts, string? LastError, DateTime? NextAttemptAt);

    /// <summary>
    /// The subscription's log rows about <paramref name="orders"/>, or all of them: the shared stack's other tests
    /// place orders meanwhile, and an <c>order.created</c> subscription gets theirs too.
    /// </summary>
    private static async Task<List<LoggedDelivery>> DeliveryLogAsync(ShopClient admin, string hookId, List<Guid>? orders = null) =>
        [.. (await DeliveryLogRowsAsync(admin, hookId))
            .Select(r => new LoggedDelivery(r.GetProperty("order_id").GetGuid(), r.GetProperty("status").GetString()!, r.GetProperty("attempts").GetInt32(),
                r.GetProperty("last_error").GetString(),
                r.GetProperty("next_attempt_at").ValueKind == JsonValueKind.Null ? null : r.GetProperty("next_attempt_at").GetDateTime().ToUniversalTime()))
            .Where(r => orders is null || orders.Contains(r.OrderId))];

    /// <summary>The subscription's <c>paused_until</c> as the admin list shows it (null when absent or null).</summary>
    private static async Task<DateTime?> PausedUntilAsync(ShopClient admin, string hookId)
    {
        var listed = (await (await admin.GetAsync("/orders/webhooks?limit=200")).JsonAsync()).GetProperty("items").EnumerateArray().Single(h => h.GetProperty("id").GetString() == hookId);
        return listed.TryGetProperty("paused_until", out var until) && until.ValueKind != JsonValueKind.Null ? until.GetDateTime().ToUniversalTime() : null;
    }

    /// <summary>Every row of the subscription's delivery log, page after page, newest first.</summary>
    private static async Task<List<JsonElement>> DeliveryLogRowsAsync(ShopClient admin, string hookId)
    {
        var rows = new List<JsonElement>();
        for (var offset = 0; ; offset += 200)
        {
            var page = await (await admin.GetAsync($"/orders/webhooks/{hookId}/deliveries?limit=200&offset={offset}")).JsonAsync();
            var items = page.GetProperty("items").EnumerateArray().ToList();
            rows.AddRange(items);
            if (offset + items.Count >= page.GetProperty("total").GetInt32() || items.Count == 0)
            {
                return rows;
            }
        }
    }

    [Fact]
    public async Task A_malformed_target_is_refused_naming_the_url()
    {
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync("/orders/webhooks", new { url = "not a url", events = new[] { "*" } })).ExpectValidationAsync("url");
    }

    [Fact]
    public async Task Webhook_admin_api_validates_hides_secrets_and_is_admin_only()
    {
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync("/orders/webhooks", new { url = "http://127.0.0.1:9/x", events = new[] { "order.shipped" } })).ExpectValidationAsync("events");
        await (await admin.PostJsonAsync("/orders/webhooks", new { url = "http://127.0.0.1:9/x", events = Array.Empty<string>() })).ExpectValidationAsync("events");

        var created = await admin.PostJsonAsync("/orders/webhooks", new { url = "http://127.0.0.1:9/x", events = new[] { "order.created" } });
        await created.ExpectAsync(201);
        var hook = await created.JsonAsync();
        var shownOnce = hook.GetProperty("secret").GetString()!;
        Assert.True(hook.GetProperty("is_active").GetBoolean());
        var id = hook.GetProperty("id").GetString();

        var list = await (await admin.GetAsync("/orders/webhooks?limit=200")).JsonAsync();
        var listed = list.GetProperty("items").EnumerateArray().Single(h => h.GetProperty("id").GetString() == id);
        Assert.True(!listed.TryGetProperty("secret", out var secret) || secret.ValueKind == JsonValueKind.Null);
        Assert.DoesNotContain(shownOnce, list.GetRawText());

        var (user, _) = await shop.NewUserAsync();
        await (await user.GetAsync("/orders/webhooks")).ExpectProblemAsync(403);
        await (await user.PostJsonAsync("/orders/webhooks", new { url = "http://127.0.0.1:9/x", events = new[] { "*" } })).ExpectProblemAsync(403);
        await (await user.GetAsync($"/orders/webhooks/{id}/deliveries")).ExpectProblemAsync(403);
        await (await user.DeleteAsync($"/orders/webhooks/{id}")).ExpectProblemAsync(403);

        await (await admin.GetAsync($"/orders/webhooks/{id}/deliveries")).ExpectAsync(200);
        await (await admin.DeleteAsync($"/orders/webhooks/{id}")).ExpectAsync(204);
        await (await admin.DeleteAsync($"/orders/webhooks/{id}")).ExpectProblemAsync(404);
        await (await admin.GetAsync($"/orders/webhooks/{id}/deliveries")).ExpectProblemAsync(404);
    }

    [Fact]
    public async Task While_every_lane_is_taken_the_subscriber_waiting_longest_gets_the_next_lane_that_frees()
    {
        // Eight subscribers fill this replica's eight lanes (Webhooks:MaxSubscribersAtOnce) with three batches
        // each, at a receiver that answers in 200 ms. A ninth's one delivery, due an hour ago, comes once all
        // eight lanes are sending. While every lane is taken a lane ends after each batch, so the ninth gets the
        // first lane that frees, before any of the eight has sent its whole backlog; a lane that kept its
        // subscriber until its backlog was gone would leave the ninth waiting for that.
        const int Backlog = 250; // BatchSize 100: three batches
        await using var slow = await WebhookReceiver.StartAsync();
        slow.AnswerAfter(TimeSpan.FromMilliseconds(200));
        await using var waiting = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var hooks = new List<string>();
        try
        {
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            for (var lane = 1; lane <= 8; lane++)
            {
                var (hookId, _) = await SubscribeAsync(admin, $"{slow.Url}?lane={lane}", "order.created");
                hooks.Add(hookId);
                await InsertDeliveriesAsync(db, hookId, userId: lane, Backlog, dueAgo: TimeSpan.Zero);
            }
            Assert.True(await Eventually.HoldsAsync(() => Enumerable.Range(1, 8).All(lane => slow.AttemptsFor(lane) > 0), Patience, TimeSpan.FromMilliseconds(20)),
                "the eight subscribers never all had a delivery in flight");

            var (waitingHookId, _) = await SubscribeAsync(admin, waiting.Url, "order.created");
            hooks.Add(waitingHookId);
            var waitingOrder = (await InsertDeliveriesAsync(db, waitingHookId, userId: 9, 1, dueAgo: TimeSpan.FromHours(1)))[0];

            var arrived = await waiting.WaitForAsync(waitingOrder.ToString(), "order.created", Patience);
            var sentMeanwhile = Enumerable.Range(1, 8).Select(slow.AttemptsFor).ToArray();
            Assert.True(arrived is not null, $"the waiting subscriber's delivery never arrived; the eight had received {string.Join(", ", sentMeanwhile)}");
            Assert.True(sentMeanwhile.All(n => n < Backlog),
                $"the waiting subscriber got a lane only once a backlog of {Backlog} was sent; the eight had received {string.Join(", ", sentMeanwhile)}");
        }
        finally
        {
            foreach (var hookId in hooks)
            {
                await admin.DeleteAsync($"/orders/webhooks/{hookId}");
            }
        }
    }

    /// <summary>A lane's claim of at most <paramref name="limit"/> of the subscription's due rows, leased a minute; how many it took.</summary>
    private static Task<long> ClaimAsync(Npgsql.NpgsqlConnection db, string hookId, int limit) =>
        Sql.ScalarAsync(db, "SELECT count(*) FROM claim_webhook_deliveries(@subscription, @limit, now() + interval '1 minute')",
            ("subscription", Guid.Parse(hookId)), ("limit", limit));

    /// <summary>
    /// <paramref name="count"/> <c>order.created</c> rows for the subscription, each about a new order of
    /// <paramref name="userId"/>, due <paramref name="dueAgo"/> ago, committed over SQL and announced as another
    /// replica's <c>OutboxAnnouncer</c> does (a payload that names no replica here); their order ids.
    /// </summary>
    internal static async Task<List<Guid>> InsertDeliveriesAsync(Npgsql.NpgsqlConnection db, string hookId, int userId, int count, TimeSpan dueAgo)
    {
        await using var insert = new Npgsql.NpgsqlCommand("""
            INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_id, payload, status, attempts, next_attempt_at, created_at)
            SELECT @subscription, e.event_id, 'order.created', e.order_id,
                   json_build_object('id', e.event_id, 'type', 'order.created', 'created_at', now(),
                       'data', json_build_object('order', json_build_object('id', e.order_id, 'user_id', @user, 'status', 'pending')))::text,
                   'pending', 0, now() - @ago, now()
            FROM (SELECT gen_random_uuid() AS event_id, gen_random_uuid() AS order_id FROM generate_series(1, @count)) e
            RETURNING order_id;
            """, db);
        insert.Parameters.AddWithValue("subscription", Guid.Parse(hookId));
        insert.Parameters.AddWithValue("user", userId);
        insert.Parameters.AddWithValue("ago", dueAgo);
        insert.Parameters.AddWithValue("count", count);
        var orders = new List<Guid>();
        await using (var reader = await insert.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                orders.Add(reader.GetGuid(0));
            }
        }
        await using var announce = new Npgsql.NpgsqlCommand("SELECT pg_notify('webhook_outbox', 'test')", db);
        await announce.ExecuteNonQueryAsync();
        return orders;
    }

    internal static async Task<JsonElement> WaitForDeliveryAsync(ShopClient admin, string hookId, string orderId, string status, int minAttempts = 0, TimeSpan? within = null)
    {
        bool Matches(JsonElement row) => row.GetProperty("status").GetString() == status && row.GetProperty("attempts").GetInt32() >= minAttempts;
        var rows = await Eventually.ReadUntilAsync(
            async () => (await DeliveryLogRowsAsync(admin, hookId)).Where(r => r.GetProperty("order_id").GetString() == orderId).ToList(),
            found => found.Any(Matches), within ?? Patience, TimeSpan.FromMilliseconds(200));
        Assert.True(rows.Any(Matches), $"No {status} delivery for order {orderId}; last seen: {(rows.Count == 0 ? "none" : rows[^1].GetRawText())}");
        return rows.First(Matches);
    }
}
