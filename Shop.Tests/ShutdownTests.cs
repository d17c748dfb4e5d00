using System.Collections.Concurrent;
using System.Net;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// A service told to stop (SIGTERM, as a container runtime, Kubernetes or systemd stops it) while it works: the
/// service's own process is signalled, left to exit by itself, and started again. These run alone, since they take
/// Orders away for a while; not beside the scaled-out app, which they do not need (its boot alone outlasted five minutes
/// on a loaded machine).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class ShutdownTests(ShopApp shop)
{
    private const int Workers = 4;
    private const int HeldCheckouts = 1;
    private const int StockPerSku = 1000;

    /// <summary>
    /// A steady stream of checkouts, each with its own Idempotency-Key, while Orders is signalled to stop and then
    /// started again. A checkout is held inside Orders when the signal comes (its item's stock row is locked in
    /// Inventory, so Orders is waiting for the reservation): accepted before SIGTERM, it is finished with its 201 while
    /// the host drains, never cut off. Every checkout whose answer was lost or a 5xx is sent again with its
    /// key once Orders is back. Then: each key has exactly one order (the one its 2xx answer named), the shoppers have
    /// no other order, and Inventory's stock and reservations reconcile exactly with those orders.
    /// </summary>
    [Fact]
    public async Task Checkouts_in_flight_when_orders_is_told_to_stop_are_finished_and_every_retried_key_has_one_order()
    {
        var skus = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => shop.NewItemAsync(qty: StockPerSku)));
        var held = await shop.NewItemAsync(qty: StockPerSku);
        var shoppers = await Task.WhenAll(Enumerable.Range(0, Workers + 1).Select(_ => shop.NewUserAsync()));
        var checkouts = new ConcurrentDictionary<string, Checkout>();
        var stream = new CheckoutStream(shoppers[..Workers], skus, checkouts);

        await using var holder = await shop.OpenDatabaseAsync("inventorydb");
        await using var watcher = await shop.OpenDatabaseAsync("inventorydb");
        int? signalled = null;
        var restarted = false;
        try
        {
            stream.Start();
            await stream.UntilAsync(() => stream.Answered >= 20, "20 checkouts answered before the signal");

            // A checkout Orders has accepted and is working on when it is told to stop: its reservation waits on the held
            // item's stock row, which the test locks, so it is inside Orders for as long as the test says.
            await using var hold = await holder.BeginTransactionAsync();
            await Sql.ExecuteAsync(holder, "SELECT 1 FROM inventory WHERE sku = @sku FOR UPDATE", ("sku", held));
            var inFlight = Enumerable.Range(0, HeldCheckouts).Select(i =>
            {
                var checkout = new Checkout(shoppers[Workers].Client, Guid.NewGuid().ToString(), held, 1);
                checkouts[checkout.Key] = checkout;
                return checkout.SendAsync();
            }).ToList();
            await Sql.UntilALockIsAwaitedAsync(watcher, "the held checkout", holder: holder);

            signalled = await shop.TerminateAsync("orders");
            // Once Orders takes no new requests the held ones can only be finished by its drain: free them then.
            var refused = await Eventually.ReadUntilAsync(async () => await OrdersRefusesAsync(), r => r, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
            Assert.True(refused, "Orders still took requests 30 s after SIGTERM");
            await hold.CommitAsync();

            var drained = await Task.WhenAll(inFlight);
            Assert.True(drained.All(c => c.Status == 201),
                "checkouts accepted before SIGTERM were not finished while Orders drained: " + string.Join(", ", drained.Select(c => c.Outcome)));

            await shop.WaitUntilExitedAsync("orders", signalled.Value);
            await shop.StartAndWaitHealthyAsync("orders");
            restarted = true;
            var answeredBefore = stream.Answered;
            await stream.UntilAsync(() => stream.Answered - answeredBefore >= 2 * Workers, "checkouts answered after the restart");
        }
        finally
        {
            await stream.DisposeAsync();
            if (signalled is { } pid && !restarted)
            {
                await shop.WaitUntilExitedAsync("orders", pid);
                await shop.StartAndWaitHealthyAsync("orders");
            }
        }

        // Every checkout whose answer was lost or a 5xx, once more with its own key (a 409 says the first is still
        // being worked on: wait as it says, and ask again).
        foreach (var checkout in checkouts.Values.Where(c => c.Status is not (200 or 201)))
        {
            await checkout.RetryUntilAnsweredAsync();
        }
        var unanswered = checkouts.Values.Where(c => c.Status is not (200 or 201)).Select(c => c.Outcome).ToList();
        Assert.True(unanswered.Count == 0, $"{unanswered.Count} checkouts never got their order: " + string.Join("; ", unanswered.Take(10)));

        await using var orders = await shop.OpenDatabaseAsync("ordersdb");
        var userIds = shoppers.Select(s => s.User.Id).ToArray();
        var stored = new Dictionary<Guid, string?>();
        await using (var read = new Npgsql.NpgsqlCommand(
            "SELECT o.id, k.key FROM orders o LEFT JOIN idempotency_keys k ON k.order_id = o.id AND k.user_id = o.user_id WHERE o.user_id = ANY(@users)", orders))
        {
            read.Parameters.AddWithValue("users", userIds);
            await using var rows = await read.ExecuteReaderAsync();
            while (await rows.ReadAsync())
            {
                stored[rows.GetGuid(0)] = rows.IsDBNull(1) ? null : rows.GetString(1);
            }
        }
        var named = checkouts.Values.GroupBy(c => c.OrderId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(named.Count == 0, $"two keys were answered with one order: {string.Join(", ", named)}");
        var missing = checkouts.Values.Where(c => !stored.ContainsKey(c.OrderId!.Value)).Select(c => c.Outcome).ToList();
        Assert.True(missing.Count == 0, "answered 2xx without a stored order: " + string.Join("; ", missing.Take(10)));
        var extra = stored.Where(o => !checkouts.Values.Any(c => c.OrderId == o.Key)).Select(o => $"{o.Key} (key {o.Value ?? "none"})").ToList();
        Assert.True(extra.Count == 0, $"{extra.Count} orders no checkout's answer named (a second order for a retried key): " + string.Join(", ", extra.Take(10)));
        Assert.Equal(checkouts.Count, stored.Count);

        await StockLedger.AssertConsistentAsync(shop, skus.Append(held).ToDictionary(s => s, _ => StockPerSku), userIds);
    }

    /// <summary>
    /// A service told to stop while Redis is up logs no exception: StackExchange.Redis logged the connection it closes
    /// itself (QUIT) as a SocketClosed RedisConnectionException, at Information, on every stop of every service.
    /// </summary>
    [Fact]
    public async Task A_service_told_to_stop_logs_no_exception()
    {
        var signalledAt = DateTimeOffset.UtcNow;
        var pid = await shop.TerminateAsync("orders");
        DateTimeOffset restartedAt;
        try
        {
            await shop.WaitUntilExitedAsync("orders", pid);
        }
        finally
        {
            restartedAt = DateTimeOffset.UtcNow;
            await shop.StartAndWaitHealthyAsync("orders");
        }
        // The new process's lines come after the old one's last: once they are kept, the stop's are all there.
        var kept = await Eventually.ReadUntilAsync(() => shop.LogLinesSoFarAsync("orders", restartedAt),
            lines => lines.Any(l => l.Contains("Now listening on", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.Contains(kept, l => l.Contains("Now listening on", StringComparison.Ordinal));

        var stop = await shop.LogLinesAsync("orders", signalledAt, restartedAt);
        Assert.Contains(stop, l => l.Contains("Application is shutting down", StringComparison.Ordinal));
        var exceptions = stop.Where(l => l.Contains("Exception", StringComparison.Ordinal) || l.Contains("SocketClosed", StringComparison.Ordinal)).ToList();
        Assert.True(exceptions.Count == 0, "a normal stop of Orders logged an exception:\n" + string.Join("\n", stop));
    }

    /// <summary>Whether Orders refuses new requests (the gateway answers 503 for it, or nothing answers).</summary>
    private async Task<bool> OrdersRefusesAsync()
    {
        try
        {
            return (await shop.Client().GetAsync("/orders/healthz")).StatusCode != HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return true;
        }
    }

    /// <summary>One checkout: its key and lines, and the last answer it got (a status, or why there was none).</summary>
    private sealed class Checkout(ShopClient client, string key, string sku, int qty)
    {
        public string Key { get; } = key;
        public int Status { get; private set; }
        public Guid? OrderId { get; private set; }
        public string Outcome { get; private set; } = "not sent";

        public async Task<Checkout> SendAsync()
        {
            (Status, _) = await PostAsync();
            return this;
        }

        /// <summary>Sends the checkout again with its key until it is answered other than 409 "still in progress" (bounded).</summary>
        public async Task RetryUntilAnsweredAsync()
        {
            for (var attempt = 0; attempt < 30; attempt++)
            {
                var (status, retryAfter) = await PostAsync();
                Status = status;
                if (status != 409 || retryAfter is null)
                {
                    return;
                }
                await Task.Delay(retryAfter.Value);
            }
        }

        private async Task<(int Status, TimeSpan? RetryAfter)> PostAsync()
        {
            try
            {
                using var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty } } },
                    r => r.Headers.Add("Idempotency-Key", Key));
                var body = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                Outcome = $"{Key}: {status} {body}";
                if (status is 200 or 201)
                {
                    var id = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
                    Assert.True(OrderId is null || OrderId == id, $"{Key} was answered with order {OrderId} and then {id}");
                    OrderId = id;
                }
                return (status, response.Headers.RetryAfter?.Delta);
            }
            catch (HttpRequestException e)
            {
                Outcome = $"{Key}: no answer ({e.Message})";
                return (0, null);
            }
        }
    }

    /// <summary>
    /// Workers placing checkouts back to back, each as its own shopper with a new key every time, until disposed.
    /// After a checkout without an order a worker pauses, so the time Orders is away costs a bounded number of keys.
    /// </summary>
    private sealed class CheckoutStream(IReadOnlyList<(ShopClient Client, TestUser User)> shoppers, IReadOnlyList<string> skus,
        ConcurrentDictionary<string, Checkout> checkouts) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _workers = [];
        private int _answered;

        /// <summary>Checkouts answered with an order.</summary>
        public int Answered => Volatile.Read(ref _answered);

        public void Start()
        {
            for (var w = 0; w < shoppers.Count; w++)
            {
                var (client, _) = shoppers[w];
                var random = new Random(w);
                _workers.Add(Task.Run(async () =>
                {
                    while (!_stop.IsCancellationRequested)
                    {
                        var checkout = new Checkout(client, Guid.NewGuid().ToString(), skus[random.Next(skus.Count)], 1 + random.Next(3));
                        checkouts[checkout.Key] = checkout;
                        await checkout.SendAsync();
                        if (checkout.Status is 200 or 201)
                        {
                            Interlocked.Increment(ref _answered);
                        }
                        else
                        {
                            await Task.Delay(250);
                        }
                    }
                }));
            }
        }

        public async Task UntilAsync(Func<bool> condition, string what)
        {
            var held = await Eventually.HoldsAsync(() => condition() || _workers.Any(w => w.IsFaulted), TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(50));
            if (_workers.FirstOrDefault(w => w.IsFaulted) is { } faulted)
            {
                await faulted;
            }
            Assert.True(held, $"no {what} within 2 minutes ({Answered} answered with an order)");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_workers);
        }
    }
}
