using System.Collections.Concurrent;
using System.Text.Json;
using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// The stock invariants, reconciled from the outside after a run: for every sku the test created,
/// initial stock − current stock == Σ quantity in non-cancelled, non-expired orders == Σ quantity Inventory holds
/// in active reservations. No order without stock, no stock without order.
/// </summary>
public static class StockLedger
{
    public static async Task AssertConsistentAsync(ShopAppHost shop, IReadOnlyDictionary<string, int> initialStock, IEnumerable<int> userIds)
    {
        // Releases of abandoned reservations run in the background: give them a bounded while.
        var users = userIds.ToList();
        var problem = await Eventually.ReadUntilAsync(() => FindInconsistencyAsync(shop, initialStock, users), p => p is null, TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(1));
        Assert.True(problem is null, problem);
    }

    private static async Task<string?> FindInconsistencyAsync(ShopAppHost shop, IReadOnlyDictionary<string, int> initialStock, List<int> userIds)
    {
        var admin = await shop.AdminAsync();
        var ordered = initialStock.Keys.ToDictionary(s => s, _ => 0);
        foreach (var userId in userIds)
        {
            for (var offset = 0; ; offset += 200)
            {
                var page = await (await admin.GetAsync($"/orders/?user_id={userId}&limit=200&offset={offset}")).JsonAsync();
                foreach (var order in page.GetProperty("items").EnumerateArray().Where(o => o.GetProperty("status").GetString() is not ("cancelled" or "expired")))
                {
                    foreach (var line in order.GetProperty("items").EnumerateArray())
                    {
                        var sku = line.GetProperty("sku").GetString()!;
                        if (ordered.ContainsKey(sku))
                        {
                            ordered[sku] += line.GetProperty("qty").GetInt32();
                        }
                    }
                }
                if (offset + 200 >= page.GetProperty("total").GetInt32())
                {
                    break;
                }
            }
        }

        var reservations = await (await shop.ServiceClient("inventory", withServiceKey: true).GetAsync("/internal/reservations/totals")).JsonAsync();
        foreach (var (sku, initial) in initialStock)
        {
            var current = await admin.StockAsync(sku);
            var reserved = reservations.TryGetProperty(sku, out var r) ? r.GetInt32() : 0;
            if (initial - current != ordered[sku] || reserved != ordered[sku])
            {
                return $"{sku}: initial {initial} − current {current} = {initial - current}, ordered (non-cancelled) {ordered[sku]}, reserved {reserved}";
            }
        }
        return null;
    }
}

/// <summary>
/// A bounded background load of order placements, reads and cancellations. Every answer is classified: a
/// placed order, a refusal (4xx), an unavailable dependency (a 503 problem with Retry-After, or a 502 problem
/// for a request its service dropped while stopping), or unexpected (any other 5xx, a non-problem 5xx, a
/// broken connection to the gateway), which is kept with its status and body. Each worker cancels its
/// oldest pending order once it holds <see cref="MaxPendingPerWorker"/>, so however fast orders are placed the
/// load can neither sell out the skus nor reach the pending-orders cap: a refusal never hides the outcome a
/// test waits for.
/// </summary>
public sealed class OrderLoad(IReadOnlyList<(ShopClient Client, TestUser User)> shoppers, IReadOnlyList<string> skus) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    public int Placed;
    public int Refused;
    public int Unavailable;
    public int Sent;
    public readonly ConcurrentQueue<string> Unexpected = new();

    /// <summary>Pending orders one worker keeps at most: ×3 units per order stays far below a test's stock and the cap.</summary>
    public const int MaxPendingPerWorker = 25;

    public OrderLoad Start(int workers = 4, int maxRequestsPerWorker = 400)
    {
        for (var w = 0; w < workers; w++)
        {
            var (client, _) = shoppers[w % shoppers.Count];
            var seed = w;
            _workers.Add(Task.Run(async () =>
            {
                var random = new Random(seed);
                var pending = new Queue<string>();
                for (var i = 0; i < maxRequestsPerWorker && !_stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var sku = skus[random.Next(skus.Count)];
                        var response = await RecordAsync(await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 + random.Next(3) } } }));
                        if (response.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref Placed);
                            var id = (await response.JsonAsync()).GetProperty("id").GetString();
                            if (random.Next(4) == 0)
                            {
                                await RecordAsync(await client.PatchJsonAsync($"/orders/{id}", new { status = "cancelled" }));
                            }
                            else
                            {
                                pending.Enqueue(id!);
                            }
                            await RecordAsync(await client.GetAsync($"/orders/{id}"));
                            if (pending.Count > MaxPendingPerWorker)
                            {
                                // A 409 here (the order was already cancelled or expired) is a refusal like any other.
                                await RecordAsync(await client.PatchJsonAsync($"/orders/{pending.Dequeue()}", new { status = "cancelled" }));
                            }
                        }
                        else if ((int)response.StatusCode < 500)
                        {
                            Interlocked.Increment(ref Refused);
                        }
                        await RecordAsync(await client.GetAsync($"/inventory/{sku}"));
                    }
                    catch (HttpRequestException e)
                    {
                        Unexpected.Enqueue($"no answer from the gateway: {e.Message}");
                    }
                    await Task.Delay(20);
                }
            }));
        }
        return this;
    }

    private async Task<HttpResponseMessage> RecordAsync(HttpResponseMessage response)
    {
        Interlocked.Increment(ref Sent);
        var status = (int)response.StatusCode;
        if (status < 500)
        {
            return response;
        }
        var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json";
        if (problem && (status == 502 || (status == 503 && response.Headers.RetryAfter?.Delta > TimeSpan.Zero)))
        {
            Interlocked.Increment(ref Unavailable);
        }
        else
        {
            Unexpected.Enqueue($"{status} from {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {await response.Content.ReadAsStringAsync()}");
        }
        return response;
    }

    /// <summary>Waits (polling, at most a minute) until <paramref name="condition"/> holds; fails saying what did not happen.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        await Eventually.HoldsAsync(() => condition() || _workers.All(w => w.IsCompleted), TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(100));
        if (condition())
        {
            return;
        }
        Assert.False(_workers.All(w => w.IsCompleted), $"the load ended before {what} (placed {Placed}, refused {Refused}, unavailable {Unavailable}, sent {Sent})");
        Assert.Fail($"no {what} within a minute (placed {Placed}, refused {Refused}, unavailable {Unavailable}, sent {Sent})");
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_workers);
    }
}
