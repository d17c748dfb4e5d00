using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HdrHistogram;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Shop.Bench;

/// <summary>How long after an order was answered its first delivery attempt reached the subscriber.</summary>
/// <param name="Timed">Deliveries of orders whose 201 the load generator saw (the others' clients gave up at the end of a point).</param>
public sealed record WebhookDelivery(long Delivered, long OrdersPlaced, long Timed, double P50Ms, double P95Ms, double P99Ms, double MaxMs);

/// <summary>
/// A subscriber on 127.0.0.1 for <c>order.created</c> during the order scenario. Latency is the time the
/// delivery arrived minus the time the load generator received the order's 201 — after the commit of the
/// order and its outbox rows, so the figure covers the dispatcher's wake-up or poll, signing and the HTTP
/// call, and not the placement itself. Both instants are taken in this process on one monotonic clock.
/// Only first deliveries count: the receiver answers 200 at once, so there are no retries.
/// </summary>
public sealed class WebhookLatency : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _answered = new();
    private readonly ConcurrentDictionary<string, long> _arrived = new();
    private string? _subscriptionId;

    private WebhookLatency(WebApplication app) => _app = app;

    public long Received => _arrived.Count;

    /// <summary>The load generator got this order's 201 now.</summary>
    public void OrderAnswered(string orderId) => _answered.TryAdd(orderId, Stopwatch.GetTimestamp());

    public static async Task<WebhookLatency> StartAsync(Uri gateway, string adminToken, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var latency = new WebhookLatency(app);
        app.MapPost("/hooks/bench", async (HttpContext context) =>
        {
            var arrived = Stopwatch.GetTimestamp();
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var orderId = body.RootElement.GetProperty("data").GetProperty("order").GetProperty("id").GetString()!;
            latency._arrived.TryAdd(orderId, arrived);
            return Results.Ok();
        });
        await app.StartAsync(ct);
        var address = app.Urls.First();

        using var http = LoadRunner.Client(gateway, 1);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await http.PostAsJsonAsync("/orders/webhooks", new { url = $"{address}/hooks/bench", events = new[] { "order.created" } }, ct);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"Subscribing the bench's webhook receiver failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        latency._subscriptionId = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString();
        return latency;
    }

    /// <summary>Waits (up to <paramref name="patience"/>) until <paramref name="expected"/> deliveries arrived, then summarises.</summary>
    public async Task<WebhookDelivery> CollectAsync(long expected, TimeSpan patience, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + patience;
        while (Received < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
        }
        var histogram = new LongHistogram(TimeSpan.FromMinutes(10).Ticks / 10, 3);
        foreach (var (orderId, arrived) in _arrived)
        {
            if (_answered.TryGetValue(orderId, out var answered))
            {
                // A delivery can beat the 201 to this process; that counts as no wait at all.
                histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(answered, arrived).TotalMicroseconds));
            }
        }
        double Ms(double percentile) => histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;
        return new WebhookDelivery(Received, expected, histogram.TotalCount, Ms(50), Ms(95), Ms(99), histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / 1000.0);
    }

    /// <summary>Unsubscribes (the run's orders stay), then stops the receiver.</summary>
    public async Task UnsubscribeAsync(Uri gateway, string adminToken, CancellationToken ct)
    {
        if (_subscriptionId is null)
        {
            return;
        }
        using var http = LoadRunner.Client(gateway, 1);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var _ = await http.DeleteAsync(string.Create(CultureInfo.InvariantCulture, $"/orders/webhooks/{_subscriptionId}"), ct);
        _subscriptionId = null;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
