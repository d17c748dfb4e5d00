using System.Collections.Concurrent;
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

/// <summary>How long after an order's event was written its first delivery attempt reached the subscriber.</summary>
public sealed record WebhookDelivery(long Delivered, long OrdersPlaced, double P50Ms, double P95Ms, double P99Ms, double MaxMs);

/// <summary>
/// A subscriber on 127.0.0.1 for <c>order.created</c> during the order scenario. Latency is the time the
/// delivery arrived minus the event's <c>created_at</c> (taken in Orders just before the transaction that
/// stores the order and its outbox rows commits, on the same clock), so it covers the commit, the
/// dispatcher's wake-up or poll, signing and the HTTP call. Only first deliveries count: the receiver
/// answers 200 at once, so there are no retries.
/// </summary>
public sealed class WebhookLatency : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _firstArrivalMicros = new();
    private readonly ConcurrentQueue<long> _latenciesMicros = new();
    private string? _subscriptionId;

    private WebhookLatency(WebApplication app) => _app = app;

    public long Received => _latenciesMicros.Count;

    public static async Task<WebhookLatency> StartAsync(Uri gateway, string adminToken, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var latency = new WebhookLatency(app);
        app.MapPost("/hooks/bench", async (HttpContext context) =>
        {
            var arrived = DateTime.UtcNow;
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var root = body.RootElement;
            var id = root.GetProperty("id").GetString()!;
            var createdAt = root.GetProperty("created_at").GetDateTime().ToUniversalTime();
            var micros = (long)((arrived - createdAt).TotalMilliseconds * 1000);
            if (latency._firstArrivalMicros.TryAdd(id, micros))
            {
                latency._latenciesMicros.Enqueue(Math.Max(micros, 1));
            }
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
        foreach (var micros in _latenciesMicros)
        {
            histogram.RecordValue(micros);
        }
        double Ms(double percentile) => histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;
        return new WebhookDelivery(histogram.TotalCount, expected, Ms(50), Ms(95), Ms(99), histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / 1000.0);
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
