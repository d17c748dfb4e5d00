using System.Net;
using System.Text;
using Aspire.Hosting.Testing;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Shop.ServiceDefaults;
using Shop.Tests.Infrastructure;
using Shop.Users.Data;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A service's own database away, then back, in the booted app (Users' PostgreSQL stopped and started through Aspire's
/// resource commands). Users meets it two ways: a signed-in request's security-stamp check reads the database through
/// <c>UsersDatabase</c> when Redis does not hold the account's stamp, and a request's own query (the admin's list of
/// users, never cached) reads it directly. Runs alone with the fault tests: it takes Users' database away.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class DatabaseOutageTests(ShopApp shop)
{
    private const string Outage = "Dependency unavailable: users database";

    /// <summary>
    /// Many requests refused while the database is away, met both ways: each client gets the 503 with Retry-After, and
    /// Users' log says the outage once (one Warning, no line per request), and once none has been refused for 10 s, one
    /// Information line ends it.
    /// </summary>
    [Fact]
    public async Task A_database_outage_met_by_many_requests_both_ways_is_one_warning_and_one_line_once_it_is_over()
    {
        var (checkedInDatabase, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await (await admin.GetAsync("/users/?limit=1")).ExpectAsync(200);
        await WaitUntilNoOutageIsOpenAsync();
        var from = DateTimeOffset.UtcNow;
        var log = new LogTail(shop.ResourceLogPath("users"));
        await shop.StopResourceAsync("users-db");
        try
        {
            await ForgetStampAsync(user.Id);
            for (var i = 0; i < 20; i++)
            {
                await (await checkedInDatabase.GetAsync("/users/me")).ExpectUnavailableAsync("database");
                await (await admin.GetAsync("/users/?limit=1")).ExpectUnavailableAsync("database");
            }
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("users-db");
        }
        var back = await FaultTests.UntilAsync(() => checkedInDatabase.GetAsync("/users/me"), r => r.StatusCode == HttpStatusCode.OK);
        await back.ExpectAsync(200);

        var end = await log.WaitForAsync("Dependency users database: no request refused for 10 s");
        Assert.Contains("info: Shop.ServiceDefaults.OutageLog", end);
        // Its summary (every 30 s while refusals go on) may come on a slow machine; it is not a second outage.
        var warnings = (await shop.ErrorEntriesAsync(["users"], from, containing: "Dependency unavailable", warnings: true, linesPerEntry: 2))
            .Where(e => !e.Contains("more requests refused", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 1, $"{warnings.Count} Warnings for one outage of Users' database, 40 requests refused:\n" + string.Join("\n", warnings));
        Assert.Contains(Outage + " (", warnings[0]);
        // EF Core's own entries for each refused or broken connection (Connection, Command, Query) were an Error per request.
        var efErrors = await shop.ErrorEntriesAsync(["users"], from, containing: "Microsoft.EntityFrameworkCore", linesPerEntry: 2);
        Assert.True(efErrors.Count == 0, $"{efErrors.Count} EF Core Errors in Users' log for one outage of its database:\n" + string.Join("\n", efErrors.Take(6)));
    }

    /// <summary>
    /// A restarted database leaves every connection idle in the pool dead (the server ends each with 57P01 "terminating
    /// connection due to administrator command"), and the first request needing the database after the restart met one:
    /// a 503 although the database was back. A read is tried again once on a fresh connection, so the first stamp check
    /// through <c>UsersDatabase</c> after Users' database restarts is answered.
    /// </summary>
    [Fact]
    public async Task After_Users_database_restarts_the_first_stamp_check_is_answered()
    {
        var (client, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        // Connections idle in Users' pool: reads of the database at once (the list of users is never cached).
        await FirstRequestAfterRestartAsync("users-db", () => admin.GetAsync("/users/?limit=200"),
            async () =>
            {
                await ForgetStampAsync(user.Id);
                return await client.GetAsync("/users/me");
            });
    }

    /// <summary>The same in Orders (the retry is in ServiceDefaults): a shopper's first list of orders after Orders' database restarts.</summary>
    [Fact]
    public async Task After_Orders_database_restarts_the_first_list_of_orders_is_answered()
    {
        var (client, _) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await FirstRequestAfterRestartAsync("orders-db", () => admin.GetAsync("/orders/?limit=100"), () => client.GetAsync("/orders/"));
    }

    /// <summary>
    /// A sign-out's first use of Users' database is its transaction (the session's rows revoked under the sessions lock):
    /// the first statement inside a service's own transaction after the restart met a dead pooled connection, a 503
    /// although the database was back. The transaction had not committed, so it changed nothing and is run again whole.
    /// </summary>
    [Fact]
    public async Task After_Users_database_restarts_the_first_sign_out_is_answered()
    {
        var (client, _) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await FirstRequestAfterRestartAsync("users-db", () => admin.GetAsync("/users/?limit=200"), () => client.PostJsonAsync("/users/logout", null));
        // The session really ended: its access token is refused.
        await (await client.GetAsync("/users/me")).ExpectAsync(401);
    }

    /// <summary>A sign-in after Users' database restarts: its statements outside and inside its transaction.</summary>
    [Fact]
    public async Task After_Users_database_restarts_the_first_sign_in_is_answered()
    {
        var (_, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await FirstRequestAfterRestartAsync("users-db", () => admin.GetAsync("/users/?limit=200"),
            () => shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password }));
    }

    /// <summary>
    /// A token refresh after Users' database restarts (the SPA's first call once the database is back). Its read of the
    /// presented token comes before its transaction: that read meets a dead pooled connection first and empties the pool,
    /// so this passed before the transaction could be run again too (a guard; the transaction's own case is
    /// <see cref="A_token_refresh_whose_transaction_meets_a_session_the_server_ended_is_answered"/>).
    /// </summary>
    [Fact]
    public async Task After_Users_database_restarts_the_first_token_refresh_is_answered()
    {
        var (_, user) = await shop.NewUserAsync();
        var (_, refreshToken) = await shop.Client().SignInAsync(user.Email, user.Password);
        var admin = await shop.AdminAsync();
        var refreshed = await FirstRequestAfterRestartAsync("users-db", () => admin.GetAsync("/users/?limit=200"), () => shop.Client().RefreshAsync(refreshToken));
        await ExpectSessionGoesOnAsync(refreshed);
    }

    /// <summary>
    /// An admin's change to an account (a deactivation, which ends its sessions) after Users' database restarts. Its read
    /// of the account empties the pool first: a guard, as for the refresh (the transaction's own case is
    /// <see cref="An_account_change_whose_transaction_meets_a_session_the_server_ended_is_answered"/>).
    /// </summary>
    [Fact]
    public async Task After_Users_database_restarts_the_first_account_change_is_answered()
    {
        var (client, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await FirstRequestAfterRestartAsync("users-db", () => admin.GetAsync("/users/?limit=200"), () => admin.DeleteAsync($"/users/{user.Id}"));
        await ExpectDeactivatedAsync(admin, client, user);
    }

    /// <summary>
    /// A token refresh whose transaction meets a session the server ended (57P01, as a restart ends it) although its read
    /// before found a live one, so nothing emptied the pool first: it was a 503, and the SPA's refresh failed with the
    /// database there. Its transaction changes only Users' database and is run again whole; the new refresh token is
    /// stored once and works.
    /// </summary>
    [Fact]
    public async Task A_token_refresh_whose_transaction_meets_a_session_the_server_ended_is_answered()
    {
        var (_, user) = await shop.NewUserAsync();
        var (_, refreshToken) = await shop.Client().SignInAsync(user.Email, user.Password);
        var refreshed = await WhileItsTransactionWaitsItsSessionIsEndedAsync(SessionsLock(user.Id), () => shop.Client().RefreshAsync(refreshToken));
        await ExpectSessionGoesOnAsync(refreshed);
    }

    /// <summary>
    /// The same for an account change (an admin deactivating an account, under its sessions lock): it was a 503 because
    /// its transaction could not be run again (the change was the caller's tracked entity, forgotten before a second run).
    /// </summary>
    [Fact]
    public async Task An_account_change_whose_transaction_meets_a_session_the_server_ended_is_answered()
    {
        var (client, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        var deactivated = await WhileItsTransactionWaitsItsSessionIsEndedAsync(SessionsLock(user.Id), () => admin.DeleteAsync($"/users/{user.Id}"));
        Assert.True(deactivated.IsSuccessStatusCode, $"the deactivation was answered {(int)deactivated.StatusCode}: {await deactivated.Content.ReadAsStringAsync()}");
        await ExpectDeactivatedAsync(admin, client, user);
    }

    /// <summary>The lock on an account's sessions that a refresh, a sign-out and a change ending sessions take first in their transaction (SignInSessions.SessionsLockClass, "SESS").</summary>
    private static string SessionsLock(int userId) => $"SELECT pg_advisory_xact_lock({0x5345_5353}, {userId})";

    /// <summary>
    /// Holds <paramref name="heldLock"/> in a session of this test, sends <paramref name="request"/>, and once Users' session
    /// waits on the lock ends that session as a restart does (<c>pg_terminate_backend</c>: 57P01), then lets the lock go
    /// and hands back the answer: the first statement of the request's transaction met the ended session.
    /// </summary>
    private async Task<HttpResponseMessage> WhileItsTransactionWaitsItsSessionIsEndedAsync(string heldLock, Func<Task<HttpResponseMessage>> request)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var holder = await shop.OpenDatabaseAsync("usersdb");
        await using var watcher = await shop.OpenDatabaseAsync("usersdb");
        Task<HttpResponseMessage> sent;
        await using (var held = await holder.BeginTransactionAsync(ct))
        {
            await new Npgsql.NpgsqlCommand(heldLock, holder, held).ExecuteNonQueryAsync(ct);
            sent = request();
            var waiting = await Eventually.ReadUntilAsync(
                async () => await new Npgsql.NpgsqlCommand("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted LIMIT 1", watcher).ExecuteScalarAsync(ct) as int?,
                pid => pid is not null || sent.IsCompleted, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
            Assert.True(waiting is not null, sent.IsCompleted ? $"the request was answered {(int)(await sent).StatusCode} without waiting on the lock" : "no session waited on the lock within 30 s");
            Assert.Equal(true, await new Npgsql.NpgsqlCommand($"SELECT pg_terminate_backend({waiting})", watcher).ExecuteScalarAsync(ct));
            await held.RollbackAsync(ct);
        }
        return await sent;
    }

    /// <summary>A refresh answered with the session's next refresh token, stored once: it refreshes again.</summary>
    private async Task ExpectSessionGoesOnAsync(HttpResponseMessage refreshed)
    {
        Assert.True(refreshed.IsSuccessStatusCode, $"the refresh was answered {(int)refreshed.StatusCode}: {await refreshed.Content.ReadAsStringAsync()}");
        var next = (await refreshed.JsonAsync()).GetProperty("refresh_token").GetString()!;
        await (await shop.Client().RefreshAsync(next)).ExpectAsync(200);
    }

    /// <summary>The account is deactivated and its access token refused.</summary>
    private static async Task ExpectDeactivatedAsync(ShopClient admin, ShopClient client, TestUser user)
    {
        Assert.False((await (await admin.GetAsync($"/users/{user.Id}")).JsonAsync()).GetProperty("is_active").GetBoolean(), "the account is still active");
        await (await client.GetAsync("/users/me")).ExpectAsync(401);
    }

    /// <summary>
    /// An order placed after Orders' database restarts: its statements (the release guard, the stored order) are the
    /// first uses of dead pooled connections. Placed once: the Idempotency-Key's answer is the order, which is stored once.
    /// </summary>
    [Fact]
    public async Task After_Orders_database_restarts_the_first_order_is_placed_once()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (client, _) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        var key = Guid.NewGuid().ToString();
        var placed = await FirstRequestAfterRestartAsync("orders-db", () => admin.GetAsync("/orders/?limit=100"),
            () => client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 2 } } }, r => r.Headers.Add("Idempotency-Key", key)));
        await placed.ExpectAsync(201);
        Assert.Equal(8, await client.StockAsync(sku));
        var orders = await (await client.GetAsync("/orders/")).JsonAsync();
        Assert.Equal(1, orders.GetProperty("items").GetArrayLength());
    }

    /// <summary>
    /// An order placed after Inventory's database restarts: the reservation (<c>reserve_stock</c>, one statement that is
    /// its own transaction) is the first use of a dead pooled connection in Inventory; stock is taken once.
    /// </summary>
    [Fact]
    public async Task After_Inventory_database_restarts_the_first_order_is_placed_and_reserves_once()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var (client, _) = await shop.NewUserAsync();
        var placed = await FirstRequestAfterRestartAsync("inventory-db", () => client.GetAsync($"/inventory/?q={Guid.NewGuid():N}"),
            () => client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 2 } } }));
        await placed.ExpectAsync(201);
        Assert.Equal(8, await client.StockAsync(sku));
    }

    /// <summary>
    /// An admin's first change to an item after Inventory's database ended its sessions (as a restart does), and the first
    /// read of the stock reservations hold (what the stock invariant checks reconcile against): each one raw SQL statement
    /// (an UPDATE … RETURNING, a SELECT), which EF does not count as a read, so neither was run again when it met a dead
    /// pooled connection: a 503 although the database was there. Inventory has no background job to meet the dead
    /// connections first. The change sets the values given, so a second run changes nothing more than the first.
    /// </summary>
    [Fact]
    public async Task After_Inventory_database_ends_its_sessions_the_first_item_change_and_held_totals_are_answered()
    {
        var sku = await shop.NewItemAsync(qty: 10);
        var admin = await shop.AdminAsync();
        var changed = await FirstRequestAfterSessionsEndAsync(ServiceDatabase.Inventory, admin,
            () => admin.PatchJsonAsync($"/inventory/{sku}", new { price = 12.50m, qty = 7 }));
        Assert.Equal(7, (await changed.JsonAsync()).GetProperty("qty").GetInt32());
        Assert.Equal(7, await admin.StockAsync(sku));

        var inventory = shop.ServiceClient("inventory", withServiceKey: true);
        await FirstRequestAfterSessionsEndAsync(ServiceDatabase.Inventory, admin, () => inventory.GetAsync("/internal/reservations/totals"));
    }

    /// <summary>
    /// An admin's first change to the webhook subscriptions after Orders' database ended its sessions (as a restart does):
    /// a subscription made (one insert), its secret rotated (a transaction that locks the row), or it deleted (one delete).
    /// Each was the first use of a dead pooled connection: a 503 although the database was there.
    /// </summary>
    [Fact]
    public async Task After_Orders_database_ends_its_sessions_the_first_webhook_subscription_is_made()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var made = await FirstRequestAfterSessionsEndAsync(ServiceDatabase.Orders, admin,
            () => admin.PostJsonAsync("/orders/webhooks", new { url = receiver.Url, events = new[] { "order.created" } }));
        var id = (await made.JsonAsync()).GetProperty("id").GetString();
        await (await admin.DeleteAsync($"/orders/webhooks/{id}")).ExpectAsync(204);
    }

    /// <inheritdoc cref="After_Orders_database_ends_its_sessions_the_first_webhook_subscription_is_made"/>
    [Fact]
    public async Task After_Orders_database_ends_its_sessions_the_first_secret_rotation_is_answered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (id, secret) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        var rotated = await FirstRequestAfterSessionsEndAsync(ServiceDatabase.Orders, admin, () => admin.PostJsonAsync($"/orders/webhooks/{id}/rotate-secret", null));
        Assert.NotEqual(secret, (await rotated.JsonAsync()).GetProperty("secret").GetString());
        await (await admin.DeleteAsync($"/orders/webhooks/{id}")).ExpectAsync(204);
    }

    /// <inheritdoc cref="After_Orders_database_ends_its_sessions_the_first_webhook_subscription_is_made"/>
    [Fact]
    public async Task After_Orders_database_ends_its_sessions_the_first_webhook_subscription_is_deleted()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (id, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        var deleted = await FirstRequestAfterSessionsEndAsync(ServiceDatabase.Orders, admin, () => admin.DeleteAsync($"/orders/webhooks/{id}"));
        await deleted.ExpectAsync(204);
        await (await admin.DeleteAsync($"/orders/webhooks/{id}")).ExpectAsync(404);
    }

    /// <summary>
    /// A delivery answered while Orders' database ended its sessions: the statement that records its outcome was the first
    /// use of a dead pooled connection. It failed, the lane gave up, the row stayed leased until its claim's lease (60 s) ran
    /// out and was then sent again: the subscriber had it twice. Recorded now, once, and never sent again.
    /// </summary>
    [Fact]
    public async Task A_delivery_answered_while_Orders_database_ended_its_sessions_is_recorded_and_not_sent_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            await FillPoolAsync(ServiceDatabase.Orders, admin);
            receiver.HoldUntilReleased(TimeSpan.FromSeconds(7.5)); // under the test app's 8 s attempt timeout
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            Assert.True(await receiver.WaitForInFlightAsync(TimeSpan.FromSeconds(30)), "the delivery never reached the subscriber");
            await EndSessionsAsync(ServiceDatabase.Orders);
            receiver.Release();
            // Past the claim's lease, when a delivery whose outcome was lost is sent again.
            await WebhookTests.WaitForDeliveryAsync(admin, hookId, orderId, "delivered", within: TimeSpan.FromSeconds(120));
            var sent = receiver.Arrived.Count(r => r.OrderId == orderId && r.EventType == "order.created");
            Assert.True(sent == 1, $"the subscriber got the delivery answered while Orders' database ended its sessions {sent} times");
        }
        finally
        {
            receiver.Release();
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    /// <summary>
    /// The webhook dispatcher's pass that a retry falling due wakes, the first use of a dead pooled connection after Orders'
    /// database ended its sessions: it failed ("WebhookDispatcher pass failed", a Warning, and the retry waited for the
    /// pass after it). Only reads, it is run again whole on a fresh connection, and the retry goes out.
    /// </summary>
    [Fact]
    public Task After_Orders_database_ends_its_sessions_the_dispatchers_first_pass_succeeds() =>
        NoDispatcherPassFailsAsync(async (receiver, admin, hookId) =>
        {
            var sku = await shop.NewItemAsync();
            var (client, user) = await shop.NewUserAsync();
            await FillPoolAsync(ServiceDatabase.Orders, admin);
            receiver.FailFirst(user.Id, 1);
            var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!;
            // The failed attempt recorded: its retry falls due about a second later (the test app's schedule), by the pass.
            await WebhookTests.WaitForDeliveryAsync(admin, hookId, orderId, "pending", minAttempts: 1);
            var ended = DateTimeOffset.UtcNow;
            await EndSessionsAsync(ServiceDatabase.Orders);
            return (orderId, ended);
        });

    /// <summary>
    /// Orders' database ends its sessions while a dispatcher pass is in flight: the pass's statement goes on on its own live
    /// connection, every other pooled one is dead. The pass read what was due in one transaction, then counted the backlog
    /// on a connection taken from the pool again; Npgsql hands idle connections out oldest first, so that was a dead one,
    /// and a raw read outside a transaction is not run again: "WebhookDispatcher pass failed" (CI saw this as a flaky
    /// failure of the test above, the termination landing during the pass a lane's end wakes). The test makes the timing
    /// certain: it holds a lock the pass's read waits for, wakes the dispatcher, ends the other sessions, then lets go.
    /// </summary>
    [Fact]
    public Task Orders_database_ending_its_sessions_during_a_dispatcher_pass_does_not_fail_it() =>
        NoDispatcherPassFailsAsync(async (_, admin, _) =>
        {
            var sku = await shop.NewItemAsync();
            var (client, _) = await shop.NewUserAsync();
            await FillPoolAsync(ServiceDatabase.Orders, admin);
            await using var holder = await shop.OpenDatabaseAsync("ordersdb");
            await using var other = await shop.OpenDatabaseAsync("ordersdb");
            DateTimeOffset ended;
            await using (var locked = await holder.BeginTransactionAsync())
            {
                await Sql.ExecuteAsync(holder, "LOCK TABLE webhook_subscriptions IN ACCESS EXCLUSIVE MODE");
                // As another replica's commit would: the dispatcher wakes and its pass reads the subscriptions.
                await Sql.ExecuteAsync(other, $"SELECT pg_notify('{Shop.Orders.Services.DatabaseNotificationListener.OutboxChannel}', 'another replica')");
                await Sql.UntilALockIsAwaitedAsync(other, "the dispatcher's pass", holder);
                ended = DateTimeOffset.UtcNow;
                var terminated = await Sql.ScalarAsync(other, """
                    SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'Shop.Orders' AND NOT (@holder = ANY (pg_blocking_pids(pid)))
                    """, ("holder", holder.ProcessID));
                Assert.True(terminated > 0, "no idle session of Orders' pool to end");
                await locked.CommitAsync();
            }
            // This order's delivery needs passes after that one: the dispatcher still works.
            return ((await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString()!, ended);
        });

    /// <summary>
    /// Orders' database ends its sessions while the stock-release worker waits for Inventory to give an order's stock back:
    /// the pass's next statement, the release row's delete (raw SQL, one statement), took a dead pooled connection and was
    /// not run again: "StockReleaseWorker pass failed", a Warning, and the release made again a pass later. Deleting an
    /// order's row a second time deletes nothing more, so it is run again. The test makes Inventory's release wait (an
    /// uncommitted tombstone for the order's id, which Inventory's own tombstone insert waits for) while the sessions end.
    /// </summary>
    [Fact]
    public async Task Orders_database_ending_its_sessions_while_a_stock_release_waits_on_Inventory_does_not_fail_the_pass()
    {
        var admin = await shop.AdminAsync();
        await FillPoolAsync(ServiceDatabase.Orders, admin);
        var orderId = Guid.NewGuid(); // a guard for an order never stored: nothing is live, Inventory is asked to release
        await using var orders = await shop.OpenDatabaseAsync("ordersdb");
        await using var holder = await shop.OpenDatabaseAsync("inventorydb");
        await using var watcher = await shop.OpenDatabaseAsync("inventorydb");
        DateTimeOffset ended;
        await using (var held = await holder.BeginTransactionAsync())
        {
            await Sql.ExecuteAsync(holder, "INSERT INTO reservations (order_id, status, created_at, released_at) VALUES (@id, 'released', now(), now())", ("id", orderId));
            await Sql.ExecuteAsync(orders, "INSERT INTO stock_releases (order_id, due_at, attempts, created_at) VALUES (@id, now(), 0, now())", ("id", orderId));
            await Sql.ExecuteAsync(orders, $"SELECT pg_notify('{Shop.Orders.Services.DatabaseNotificationListener.StockReleaseChannel}', '')");
            await Sql.UntilALockIsAwaitedAsync(watcher, "Inventory's release of the order", holder);
            ended = DateTimeOffset.UtcNow;
            await EndSessionsAsync(ServiceDatabase.Orders);
            await held.RollbackAsync();
        }
        var left = await Eventually.ReadUntilAsync(() => Sql.ScalarAsync(orders, "SELECT count(*) FROM stock_releases WHERE order_id = @id", ("id", orderId)),
            count => count == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        Assert.True(left == 0, "the stock release row was not deleted within 30 s");
        var failedPasses = await shop.ErrorEntriesAsync(["orders"], ended, containing: "StockReleaseWorker pass failed", warnings: true, linesPerEntry: 40);
        Assert.True(failedPasses.Count == 0, "a stock-release pass failed after Orders' sessions ended:\n" + string.Join("\n", failedPasses));
    }

    /// <summary>
    /// With a receiver subscribed to order.created, <paramref name="endSessions"/> ends Orders' sessions and names an order
    /// and when the sessions ended; the order's delivery goes out and no dispatcher pass failed since.
    /// </summary>
    private async Task NoDispatcherPassFailsAsync(Func<WebhookReceiver, ShopClient, string, Task<(string OrderId, DateTimeOffset Ended)>> endSessions)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, receiver.Url, "order.created");
        try
        {
            var (orderId, ended) = await endSessions(receiver, admin, hookId);
            await WebhookTests.WaitForDeliveryAsync(admin, hookId, orderId, "delivered");
            var failedPasses = await shop.ErrorEntriesAsync(["orders"], ended, containing: "WebhookDispatcher pass failed", warnings: true, linesPerEntry: 40);
            Assert.True(failedPasses.Count == 0, "a dispatcher pass failed after Orders' sessions ended:\n" + string.Join("\n", failedPasses));
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    /// <summary>
    /// A service's database as these tests end its sessions: its connection name, the <c>application_name</c> of the
    /// service's pooled sessions, and a request (sent by the admin) that reads the database each time, never a cache.
    /// </summary>
    private sealed record ServiceDatabase(string Name, string Service, Func<ShopClient, Task<HttpResponseMessage>> Read)
    {
        public static readonly ServiceDatabase Orders = new("ordersdb", "Shop.Orders", admin => admin.GetAsync("/orders/?limit=100"));

        public static readonly ServiceDatabase Inventory = new("inventorydb", "Shop.Inventory", admin => admin.GetAsync($"/inventory/?q={Guid.NewGuid():N}"));
    }

    /// <summary>Connections idle in the service's pool: <see cref="ServiceDatabase.Read"/> 48 times at once.</summary>
    private static async Task FillPoolAsync(ServiceDatabase database, ShopClient admin)
    {
        var reads = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ => database.Read(admin)));
        Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    /// <summary>
    /// Ends every session of the service's pool as a restart does (57P01 "terminating connection due to administrator
    /// command"), without a restart's downtime: while the database is away, Orders' background jobs meet the dead pooled
    /// connections first and a read's retry empties the pool, so a request after the restart seldom meets one (the restart
    /// tests above passed on code that failed). Orders' listener's own session ("Shop.Orders notifications") is left, so
    /// nothing wakes its jobs.
    /// </summary>
    private async Task EndSessionsAsync(ServiceDatabase database)
    {
        await using var db = await shop.OpenDatabaseAsync(database.Name);
        var ended = await Sql.ScalarAsync(db, """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = @service
            """, ("service", database.Service));
        Assert.True(ended > 0, $"no session of {database.Service}'s pool to end");
    }

    /// <summary>
    /// Fills the service's pool, ends its sessions (<see cref="EndSessionsAsync"/>), then asserts the very next request
    /// needing its database is answered (a 2xx), and hands it back.
    /// </summary>
    private async Task<HttpResponseMessage> FirstRequestAfterSessionsEndAsync(ServiceDatabase database, ShopClient admin, Func<Task<HttpResponseMessage>> first)
    {
        await FillPoolAsync(database, admin);
        await EndSessionsAsync(database);
        var response = await first();
        Assert.True(response.IsSuccessStatusCode,
            $"the first request after {database.Name} ended its sessions was answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    /// <summary>
    /// Fills the service's pool with idle connections (<paramref name="read"/> 48 times at once, each answered), restarts its
    /// database and waits until it accepts connections again, then asserts the very next request needing it is answered
    /// (a 2xx), and hands it back.
    /// </summary>
    private async Task<HttpResponseMessage> FirstRequestAfterRestartAsync(string database, Func<Task<HttpResponseMessage>> read, Func<Task<HttpResponseMessage>> first)
    {
        var reads = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ => read()));
        Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await shop.StopResourceAsync(database);
        await shop.StartAndWaitHealthyAsync(database);

        var response = await first();
        Assert.True(response.IsSuccessStatusCode,
            $"the first request after {database} restarted was answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    /// <summary>
    /// The same without the race of the booted services, whose background jobs (Users' stamp sweep, Orders' dispatcher)
    /// often take a dead connection before the request does (as Users' log showed on the code before the fix: the sweep's
    /// 57P01, then every request answered): a host with a service's database as the services build it
    /// (<c>AddShopDbContext</c>), nothing else using its pool, whose first read after the restart is the first use of a
    /// dead pooled connection. It failed with 57P01; now it is run again once, on a fresh connection.
    /// </summary>
    [Fact]
    public Task After_Users_database_restarts_the_first_read_of_a_full_pool_succeeds() =>
        FirstReadAfterRestartAsync<UsersDbContext>("usersdb", "users-db", (db, ct) => db.Users.AnyAsync(ct));

    /// <summary>The same for Orders' database: the retry is in ServiceDefaults, for every service's pool.</summary>
    [Fact]
    public Task After_Orders_database_restarts_the_first_read_of_a_full_pool_succeeds() =>
        FirstReadAfterRestartAsync<CatalogProbeContext>("ordersdb", "orders-db", (db, ct) => db.Databases.AnyAsync(ct));

    /// <summary>
    /// The same for a transaction (<c>InAllOrNothingTransactionAsync</c>): its first statement met the dead connection, the
    /// server had rolled nothing forward (COMMIT was never sent), and the block is run again whole on a fresh connection.
    /// </summary>
    [Fact]
    public Task After_Users_database_restarts_the_first_transaction_of_a_full_pool_succeeds() =>
        FirstReadAfterRestartAsync<UsersDbContext>("usersdb", "users-db",
            (db, ct) => db.InAllOrNothingTransactionAsync(c => db.Database.ExecuteSqlRawAsync("UPDATE users SET name = name WHERE false", c), ct));

    /// <summary>
    /// The same for a statement outside a transaction whose second run changes nothing (<c>RerunnableAsync</c>: Orders'
    /// release guard and Idempotency-Key claim, Inventory's reservation), on Orders' pool.
    /// </summary>
    [Fact]
    public Task After_Orders_database_restarts_the_first_rerunnable_statement_of_a_full_pool_succeeds() =>
        FirstReadAfterRestartAsync<CatalogProbeContext>("ordersdb", "orders-db",
            (db, ct) => db.Database.RerunnableAsync(() => db.Database.ExecuteSqlRawAsync("SELECT 1", ct)));

    private async Task FirstReadAfterRestartAsync<TContext>(string connectionName, string resource, Func<TContext, CancellationToken, Task> read) where TContext : DbContext
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration[$"ConnectionStrings:{connectionName}"] = await shop.App.GetConnectionStringAsync(connectionName, ct);
        builder.AddShopDbContext<TContext, HostApplicationBuilder>(connectionName);
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug)).AddFakeLogging();
        using var host = builder.Build();
        async Task UseAsync(Func<TContext, Task> use)
        {
            await using var scope = host.Services.CreateAsyncScope();
            await use(scope.ServiceProvider.GetRequiredService<TContext>());
        }
        // Several connections open at once, then idle in the pool. Rerunnable: EF keeps a data source per connection string
        // across hosts, so an earlier test's connections, dead since its restart, may still be in this pool.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => UseAsync(db => db.Database.RerunnableAsync(() => db.Database.ExecuteSqlRawAsync("SELECT pg_sleep(0.2)", ct)))));
        host.Services.GetRequiredService<FakeLogCollector>().Clear();
        await shop.StopResourceAsync(resource);
        await shop.StartAndWaitHealthyAsync(resource);

        var failure = await Record.ExceptionAsync(() => UseAsync(db => read(db, ct)));
        Assert.True(failure is null, $"the first use after {resource} restarted failed: {failure?.GetBaseException().Message}");
        // The pooled connection really was dead: the read (or statement, or transaction) was run again after the server's 57P01.
        var retried = host.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Where(e => e.Id.Id == CoreEventId.ExecutionStrategyRetrying.Id).ToList();
        Assert.True(retried.Count == 1 && retried[0].Exception?.GetBaseException() is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.AdminShutdown },
            $"{retried.Count} reads run again: " + string.Join(" | ", retried.Select(e => e.Exception?.GetBaseException().Message)));
    }

    /// <summary>A database's catalogue as EF Core reads it, for a pool of a service's database this project does not reference.</summary>
    private sealed class CatalogProbeContext(DbContextOptions<CatalogProbeContext> options) : DbContext(options)
    {
        public DbSet<DatabaseRow> Databases => Set<DatabaseRow>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) =>
            modelBuilder.Entity<DatabaseRow>().HasNoKey().ToView("pg_database");
    }

    private sealed class DatabaseRow
    {
        public string Datname { get; set; } = "";
    }

    /// <summary>
    /// Connections broken at the socket (a crashed server, a dropped network path: each the next use's "Exception while
    /// reading from stream"), all of them idle in the pool: the first read through <c>UsersDatabase</c> (the stamp checks)
    /// meets one and is tried again on a fresh connection, so no use fails; EF's retry line shows the break was real (a
    /// pass is not a proxy that broke nothing). Users' database as Users builds it, reaching the app's PostgreSQL through
    /// a proxy that resets every open connection.
    /// </summary>
    [Fact]
    public async Task Connections_broken_at_the_socket_fail_no_read_through_UsersDatabase()
    {
        var ct = TestContext.Current.CancellationToken;
        var (proxy, builder) = await UsersDatabaseThroughProxyAsync(ct);
        await using var _ = proxy;
        builder.Services.AddSingleton<UsersDatabase>();
        using var users = builder.Build();
        var database = users.Services.GetRequiredService<UsersDatabase>();
        // Several connections open at once, then idle in the pool.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            database.UseAsync((db, c) => db.Database.ExecuteSqlRawAsync("SELECT pg_sleep(0.3)", c), ct)));

        proxy.ResetAll();
        var failures = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            if (await Record.ExceptionAsync(() => database.UseAsync((db, c) => db.Users.AnyAsync(c), ct)) is { } failure)
            {
                failures.Add(failure.GetBaseException().Message);
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} reads failed on dead pooled connections: " + string.Join(" | ", failures));
        var retries = users.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Count(e => e.Id.Id == CoreEventId.ExecutionStrategyRetrying.Id);
        Assert.True(retries == 1, $"{retries} reads tried again (expected the first, on a connection the proxy reset)");
    }

    /// <summary>
    /// A write is never tried again on a broken connection: the server may have run it before the connection broke (an
    /// order or a reservation made twice). It fails as an outage, once.
    /// </summary>
    [Fact]
    public async Task A_write_on_a_connection_broken_at_the_socket_is_not_tried_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var (proxy, builder) = await UsersDatabaseThroughProxyAsync(ct);
        await using var _ = proxy;
        using var users = builder.Build();
        async Task<Exception?> WriteAsync()
        {
            await using var scope = users.Services.CreateAsyncScope();
            return await Record.ExceptionAsync(() => scope.ServiceProvider.GetRequiredService<UsersDbContext>().Database.ExecuteSqlRawAsync("UPDATE users SET name = name WHERE false", ct));
        }
        Assert.Null(await WriteAsync());

        proxy.ResetAll();
        var broken = await WriteAsync();
        Assert.True(broken is not null && ShopDatabaseExtensions.IsUnavailability(broken), $"the write on the reset connection did not fail as an outage: {broken}");
        Assert.DoesNotContain(users.Services.GetRequiredService<FakeLogCollector>().GetSnapshot(), e => e.Id.Id == CoreEventId.ExecutionStrategyRetrying.Id);
    }

    /// <summary>
    /// A socket that broke under <c>InAllOrNothingTransactionAsync</c>'s block, before COMMIT was sent: the server rolls the
    /// transaction back when it sees the connection gone, so the block is run again whole on a fresh connection, as after a
    /// restart's 57P01 (<c>After_Users_database_restarts_the_first_transaction_of_a_full_pool_succeeds</c>); it failed once,
    /// a 503 although the database was there. Users' database as Users builds it, through a proxy that resets every connection.
    /// </summary>
    [Fact]
    public async Task A_transaction_whose_socket_broke_before_its_commit_is_run_again_whole_and_the_next_one_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        var (proxy, builder) = await UsersDatabaseThroughProxyAsync(ct);
        await using var _ = proxy;
        using var users = builder.Build();
        var log = users.Services.GetRequiredService<FakeLogCollector>();
        var runs = 0;
        async Task<Exception?> TransactionAsync()
        {
            await using var scope = users.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<UsersDbContext>();
            return await Record.ExceptionAsync(() => db.InAllOrNothingTransactionAsync(async c =>
            {
                runs++;
                await db.Database.ExecuteSqlRawAsync("UPDATE users SET name = name WHERE false", c);
            }, ct));
        }
        Assert.Null(await TransactionAsync());

        proxy.ResetAll();
        runs = 0;
        var reset = await TransactionAsync();
        var retried = log.GetSnapshot().Where(e => e.Id.Id == CoreEventId.ExecutionStrategyRetrying.Id).ToList();
        Assert.True(reset is null && runs == 2 && retried.Count == 1 && retried[0].Exception?.GetBaseException() is IOException or System.Net.Sockets.SocketException,
            $"a transaction whose first statement met a reset socket: {runs} runs, {retried.Count} retries, failure {reset}");

        // The run again and the next request's transaction (the same pooled context and NpgsqlConnection) are answered. The
        // statement was being auto-prepared (its second use) when the write failed: Npgsql kept the command, marked so, for
        // the connection's next one, which on a fresh connection threw a NullReferenceException (a 500) in NpgsqlDataReader.NextResult.
        var next = await TransactionAsync();
        Assert.True(next is null, $"the transaction after one whose socket broke failed: {next}");
    }

    /// <summary>
    /// EF Core logs a statement that failed (<c>CommandError</c>) without its exception, so its level cannot follow the
    /// cause from the entry alone: a connection broken at the socket (an outage, the 503 said once by <c>OutageLog</c>)
    /// is below Error in the EF categories, while a statement the database refused as wrong SQL is still an Error there,
    /// with its cause. Users' database as Users builds it (<c>AddShopDbContext</c>), through a proxy that resets every
    /// open connection.
    /// </summary>
    [Fact]
    public async Task EF_logs_a_broken_connection_below_error_and_a_real_sql_error_at_error()
    {
        var ct = TestContext.Current.CancellationToken;
        var (proxy, builder) = await UsersDatabaseThroughProxyAsync(ct);
        await using var _ = proxy;
        using var users = builder.Build();
        var log = users.Services.GetRequiredService<FakeLogCollector>();
        async Task<Exception?> QueryAsync(Func<UsersDbContext, Task> query)
        {
            await using var scope = users.Services.CreateAsyncScope();
            return await Record.ExceptionAsync(() => query(scope.ServiceProvider.GetRequiredService<UsersDbContext>()));
        }
        List<string> EfErrors() => log.GetSnapshot()
            .Where(e => e.Level >= LogLevel.Error && e.Category?.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal) == true)
            .Select(e => $"{e.Category}[{e.Id.Id}] {e.Message} {e.Exception?.GetBaseException().Message}").ToList();
        Assert.Null(await QueryAsync(db => db.Users.AnyAsync(ct)));

        var wrong = await QueryAsync(db => db.Users.FromSqlRaw("SELECT * FROM no_such_table").ToListAsync(ct));
        Assert.True(wrong is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UndefinedTable }, $"wrong SQL did not fail as such: {wrong}");
        var errors = EfErrors();
        Assert.Contains(errors, e => e.StartsWith("Microsoft.EntityFrameworkCore.Database.Command[20102]", StringComparison.Ordinal)
            && e.Contains("no_such_table", StringComparison.Ordinal) && e.Contains("42P01", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Microsoft.EntityFrameworkCore.Query[10100]", StringComparison.Ordinal));

        proxy.ResetAll();
        // A statement, not a query: a read that meets a broken connection is run again and succeeds.
        var broken = await QueryAsync(db => db.Database.ExecuteSqlRawAsync("SELECT 1", ct));
        Assert.True(broken is not null && ShopDatabaseExtensions.IsUnavailability(broken), $"the reset connection's query did not fail as an outage: {broken}");
        var outageErrors = EfErrors().Skip(errors.Count).ToList();
        Assert.True(outageErrors.Count == 0, "EF Core logged a broken connection as an Error:\n" + string.Join("\n", outageErrors));
        Assert.Contains(log.GetSnapshot(), e => e.Id.Id == RelationalEventId.CommandError.Id && e.Level == LogLevel.Debug && e.Exception is not null);
    }

    /// <summary>
    /// A deadlock is the database answering, not an outage: the request whose transaction PostgreSQL aborts is answered 503
    /// with Retry-After and a detail that says its change was not saved and may be sent again, logged as an Error (the
    /// services lock rows in one order, so a deadlock is a bug to find), and never starts an outage in <c>OutageLog</c>.
    /// Npgsql counts 40P01 as transient, which made it "database unavailable" and an outage Warning. A real deadlock: Users'
    /// database as Users builds it, against another session of the app's PostgreSQL, each holding the row the other wants.
    /// </summary>
    [Fact]
    public async Task A_deadlock_is_answered_and_logged_as_contention_not_as_an_outage()
    {
        var ct = TestContext.Current.CancellationToken;
        // The proxy only forwards here.
        var (proxy, builder) = await UsersDatabaseThroughProxyAsync(ct);
        await using var _ = proxy;
        builder.Services.AddSingleton(TimeProvider.System).AddShopProblemDetails();
        using var users = builder.Build();
        var (_, first) = await shop.NewUserAsync();
        var (_, second) = await shop.NewUserAsync();
        await using var other = await shop.OpenDatabaseAsync("usersdb");
        await using var watcher = await shop.OpenDatabaseAsync("usersdb");
        await using var otherTransaction = await other.BeginTransactionAsync(ct);
        Task Touch(int id) => new Npgsql.NpgsqlCommand($"UPDATE users SET name = name WHERE id = {id}", other, otherTransaction).ExecuteNonQueryAsync(ct);
        await Touch(first.Id);

        await using var scope = users.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UsersDbContext>();
        Exception? failure;
        await using (var transaction = await db.Database.BeginAllOrNothingTransactionAsync(ct))
        {
            await db.Database.ExecuteSqlAsync($"UPDATE users SET name = name WHERE id = {second.Id}", ct);
            var pid = await db.Database.SqlQuery<int>($"SELECT pg_backend_pid() AS \"Value\"").SingleAsync(ct);
            var blocked = Record.ExceptionAsync(() => db.Database.ExecuteSqlAsync($"UPDATE users SET name = name WHERE id = {first.Id}", ct));
            // Users' session waits first, so its deadlock check (deadlock_timeout after it began waiting) finds the cycle.
            var waiting = await Eventually.ReadUntilAsync(
                async () => await new Npgsql.NpgsqlCommand($"SELECT coalesce(wait_event_type, '') FROM pg_stat_activity WHERE pid = {pid}", watcher).ExecuteScalarAsync(ct) as string,
                w => w == "Lock", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
            Assert.Equal("Lock", waiting);
            var otherWaits = Touch(second.Id);
            failure = await blocked;
            await transaction.RollbackAsync(ct);
            await otherWaits;
        }
        await otherTransaction.RollbackAsync(ct);
        Assert.True(failure?.GetBaseException() is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.DeadlockDetected }, $"no deadlock: {failure}");

        var http = new DefaultHttpContext { RequestServices = users.Services };
        http.Response.Body = new MemoryStream();
        var handler = users.Services.GetServices<IExceptionHandler>().OfType<ShopExceptionHandler>().Single();
        Assert.True(await handler.TryHandleAsync(http, failure, ct));
        var body = Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
        Assert.True(http.Response.StatusCode == 503 && body.Contains("collided with another", StringComparison.Ordinal) && http.Response.Headers.RetryAfter.Count == 1,
            $"a deadlock was answered {http.Response.StatusCode}: {body}");
        var log = users.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        var outage = log.Where(e => e.Category == typeof(OutageLog).FullName).Select(e => e.Message).ToList();
        Assert.True(outage.Count == 0, "a deadlock was logged as an outage: " + string.Join(" | ", outage));
        Assert.Contains(log, e => e.Level == LogLevel.Error && e.Category == typeof(ShopExceptionHandler).FullName && e.Exception?.GetBaseException() is Npgsql.PostgresException);
    }

    /// <summary>
    /// A host with Users' database as Users builds it (<c>AddShopDbContext</c>), reaching the app's PostgreSQL through a
    /// proxy that can reset every open connection, logging everything from Debug to a <c>FakeLogCollector</c>; the caller
    /// adds the rest and disposes of the proxy.
    /// </summary>
    private async Task<(TcpFaultProxy Proxy, HostApplicationBuilder Builder)> UsersDatabaseThroughProxyAsync(CancellationToken ct)
    {
        var direct = new Npgsql.NpgsqlConnectionStringBuilder(await shop.App.GetConnectionStringAsync("usersdb", ct));
        var proxy = TcpFaultProxy.Start($"{direct.Host}:{direct.Port}");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var viaProxy = new Npgsql.NpgsqlConnectionStringBuilder(direct.ConnectionString) { Host = "127.0.0.1", Port = int.Parse(proxy.Endpoint.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture) };
        builder.Configuration["ConnectionStrings:usersdb"] = viaProxy.ConnectionString;
        builder.AddShopDbContext<UsersDbContext, HostApplicationBuilder>("usersdb");
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug)).AddFakeLogging();
        return (proxy, builder);
    }

    /// <summary>Users' stamp checks for the account then read its database: Redis does not hold its stamp.</summary>
    private async Task ForgetStampAsync(int userId)
    {
        await using var redis = await shop.ConnectRedisAsync();
        await redis.GetDatabase(0).KeyDeleteAsync($"auth:stamp:{userId}");
    }

    /// <summary>
    /// An earlier test's outage of Users' database, not over yet, would take this one's Warning. It is over at its end line,
    /// or when the Users process that said it stopped (a restart: no end line ever comes). Read again until then: the end
    /// line may reach the kept log just after a read.
    /// </summary>
    private async Task WaitUntilNoOutageIsOpenAsync()
    {
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);
        var lines = await Eventually.ReadUntilAsync(() => shop.LogLinesSoFarAsync("users", since), lines => !OutageOpen(lines),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        Assert.False(OutageOpen(lines), "an earlier outage of Users' database was still open after 60 s:\n" + string.Join("\n", lines.TakeLast(20)));

        static bool OutageOpen(List<string> lines) =>
            lines.FindLastIndex(l => l.Contains(Outage, StringComparison.Ordinal)) is var began and >= 0
            && lines.FindLastIndex(l => l.Contains("Dependency users database: no request refused", StringComparison.Ordinal)) < began
            && lines.FindLastIndex(l => l.Contains("Now listening on:", StringComparison.Ordinal)) < began;
    }
}
