using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Sends the webhook outbox: claims due rows with <c>FOR UPDATE SKIP LOCKED</c> and a lease (so several
/// Orders instances share the work and a crashed sender's rows come back), signs and POSTs each, then
/// records the outcome: delivered on 2xx, otherwise the next attempt per the back-off schedule with
/// jitter, and failed after the last. A crash between send and record means a re-send, never a loss.
/// Committed outbox rows wake it on every replica (<see cref="WebhookDispatchSignal"/>); otherwise it
/// sleeps until the earliest retry or lease falls due, at most <c>Webhooks:PollInterval</c>.
/// </summary>
public sealed class WebhookDispatcher(
    IServiceScopeFactory scopes, IHttpClientFactory httpClients, IOptions<WebhookOptions> options,
    WebhookDispatchSignal signal, WebhookTargetPolicy targets, WebhookSecrets secrets, WebhookMetrics metrics, ILogger<WebhookDispatcher> logger) : SignalledJob(signal, logger)
{
    public const string HttpClientName = "webhooks";
    public static readonly ActivitySource ActivitySource = new("Shop.Orders.Webhooks");
    private readonly WebhookOptions _options = options.Value;

    protected override TimeSpan FallbackPoll => _options.PollInterval;

    protected override TimeSpan GatherAfterWake => _options.GatherAfterWake;

    private sealed record PendingSummary(long Count, DateTime? NextDue);

    protected override async Task<JobPass> RunOnceAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();

        var claimed = await ClaimAsync(db, ct);
        if (claimed.Count > 0)
        {
            await SendAllAsync(db, claimed, ct);
        }
        // After the attempts, so a failed one's retry time is included. Column names follow the snake_case convention.
        var pending = (await db.Database.SqlQuery<PendingSummary>($"""
                SELECT count(*) AS count, min(next_attempt_at) AS next_due FROM webhook_deliveries WHERE status = 'pending'
                """).ToListAsync(ct))[0];
        metrics.SetPending(pending.Count);
        return new JobPass(claimed.Count == _options.BatchSize, pending.NextDue);
    }

    private async Task SendAllAsync(OrdersDbContext db, List<WebhookDelivery> claimed, CancellationToken ct)
    {
        var subscriptionIds = claimed.Select(d => d.SubscriptionId).Distinct().ToList();
        var subscriptions = await db.WebhookSubscriptions.AsNoTracking()
            .Where(s => subscriptionIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);

        // One order's events reach a subscriber in event order (created before its status changes); different
        // orders' events to the same subscriber go up to MaxConcurrentPerSubscriber at a time, and different
        // subscribers in parallel. One POST at a time per subscriber was what bounded delivery under load
        // (docs/performance.md). A subscriber's outcomes are written in one statement when its part of the
        // batch is done; the claim's lease keeps the rows meanwhile, and a crash before the write means
        // those deliveries are sent again (at least once, never lost).
        await Parallel.ForEachAsync(claimed.GroupBy(d => d.SubscriptionId), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (bySubscriber, token) =>
            {
                subscriptions.TryGetValue(bySubscriber.Key, out var subscription);
                var outcomes = new ConcurrentBag<DeliveryOutcome>();
                await Parallel.ForEachAsync(bySubscriber.GroupBy(d => d.OrderId),
                    new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentPerSubscriber, CancellationToken = token },
                    async (byOrder, orderToken) =>
                    {
                        foreach (var delivery in byOrder.OrderBy(d => d.Id))
                        {
                            outcomes.Add(await AttemptAsync(delivery, subscription, orderToken));
                        }
                    });
                using var innerScope = scopes.CreateScope();
                await RecordAsync(innerScope.ServiceProvider.GetRequiredService<OrdersDbContext>(), [.. outcomes]);
            });
    }

    private async Task<List<WebhookDelivery>> ClaimAsync(OrdersDbContext db, CancellationToken ct) =>
        // One statement: the due rows are locked, skipped by other instances while locked, and leased for
        // ClaimLease so that no instance takes them again while they are being sent.
        await db.WebhookDeliveries
            .FromSql($"""
                UPDATE webhook_deliveries SET next_attempt_at = {DateTime.UtcNow + _options.ClaimLease}
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY id
                    LIMIT {_options.BatchSize}
                    FOR UPDATE SKIP LOCKED)
                RETURNING *
                """)
            .AsNoTracking().ToListAsync(ct);

    /// <summary>What one attempt leaves in the delivery's row.</summary>
    private sealed record DeliveryOutcome(long Id, string Status, int Attempts, int? LastStatusCode, string? LastError, DateTime NextAttemptAt, DateTime? DeliveredAt);

    private static async Task RecordAsync(OrdersDbContext db, List<DeliveryOutcome> outcomes)
    {
        // Not cancellable: an attempt that was made is recorded even while the service stops.
        await db.Database.ExecuteSqlRawAsync("""
            UPDATE webhook_deliveries AS d
            SET status = o.status, attempts = o.attempts, last_status_code = o.last_status_code,
                last_error = o.last_error, next_attempt_at = o.next_attempt_at, delivered_at = o.delivered_at
            FROM unnest(@ids, @statuses, @attempts, @codes, @errors, @next, @delivered)
                AS o(id, status, attempts, last_status_code, last_error, next_attempt_at, delivered_at)
            WHERE d.id = o.id
            """,
            [
                new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = outcomes.Select(o => o.Id).ToArray() },
                new NpgsqlParameter("statuses", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = outcomes.Select(o => o.Status).ToArray() },
                new NpgsqlParameter("attempts", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = outcomes.Select(o => o.Attempts).ToArray() },
                new NpgsqlParameter("codes", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = outcomes.Select(o => o.LastStatusCode).ToArray() },
                new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = outcomes.Select(o => o.LastError).ToArray() },
                new NpgsqlParameter("next", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = outcomes.Select(o => o.NextAttemptAt).ToArray() },
                new NpgsqlParameter("delivered", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = outcomes.Select(o => o.DeliveredAt).ToArray() },
            ], CancellationToken.None);
    }

    private async Task<DeliveryOutcome> AttemptAsync(WebhookDelivery delivery, WebhookSubscription? subscription, CancellationToken ct)
    {
        using var activity = ActivitySource.StartActivity("webhook deliver", ActivityKind.Producer);
        activity?.SetTag("shop.webhook.delivery_id", delivery.Id);
        activity?.SetTag("shop.webhook.event_type", delivery.EventType);
        activity?.SetTag("shop.webhook.attempt", delivery.Attempts + 1);
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["DeliveryId"] = delivery.Id, ["EventId"] = delivery.EventId });

        int? statusCode = null;
        string? error = null;
        var started = Stopwatch.GetTimestamp();
        if (subscription is not { IsActive: true })
        {
            error = "Subscription is inactive.";
        }
        else if (!WebhookTargetPolicy.IsWellFormed(subscription.Url, out var uri) || await targets.CheckAsync(uri!, ct) is { } refusal)
        {
            error = "Target refused: internal address, port or scheme not allowed.";
        }
        else if (SigningSecrets(subscription) is not { } signingSecrets)
        {
            error = "The signing secret cannot be decrypted (Data Protection key missing); rotate the secret.";
        }
        else
        {
            (statusCode, error) = await SendAsync(subscription, signingSecrets, delivery, ct);
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        metrics.RecordAttempt(elapsed, statusCode);

        var attempts = delivery.Attempts + 1;
        var now = DateTime.UtcNow;
        if (statusCode is >= 200 and < 300)
        {
            metrics.Delivered();
            // Debug, not Information: one line per delivery is the whole log under load; the delivered
            // counter and the delivery log carry the same facts.
            logger.LogDebug("Webhook delivery {DeliveryId} delivered on attempt {Attempt} ({StatusCode})", delivery.Id, attempts, statusCode);
            return new DeliveryOutcome(delivery.Id, WebhookDeliveryStatus.Delivered, attempts, statusCode, null, delivery.NextAttemptAt, now);
        }

        activity?.SetStatus(ActivityStatusCode.Error, error ?? $"HTTP {statusCode}");
        var delay = subscription is { IsActive: true } ? RetryDelay(_options.EffectiveSchedule, attempts, Random.Shared.NextDouble()) : null;
        var gaveUp = delay is null;
        var next = delay is { } wait ? now + wait : now;
        var lastError = Truncate(error ?? $"HTTP {statusCode}", 500);
        if (gaveUp)
        {
            metrics.Failed();
            logger.LogWarning("Webhook delivery {DeliveryId} failed after {Attempts} attempts: {Error}", delivery.Id, attempts, lastError);
        }
        else
        {
            logger.LogInformation("Webhook delivery {DeliveryId} attempt {Attempt} failed ({Error}); next at {Next:O}", delivery.Id, attempts, lastError, next);
        }
        return new DeliveryOutcome(delivery.Id, gaveUp ? WebhookDeliveryStatus.Failed : WebhookDeliveryStatus.Pending, attempts, statusCode, lastError, next, null);
    }

    private IReadOnlyList<string>? SigningSecrets(WebhookSubscription subscription)
    {
        try
        {
            return secrets.SigningSecrets(subscription, DateTime.UtcNow);
        }
        catch (CryptographicException e)
        {
            logger.LogError(e, "Cannot decrypt the signing secret of webhook {WebhookId}", subscription.Id);
            return null;
        }
    }

    private async Task<(int? StatusCode, string? Error)> SendAsync(WebhookSubscription subscription, IReadOnlyList<string> signingSecrets, WebhookDelivery delivery, CancellationToken ct)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add("X-Shop-Event", delivery.EventType);
        request.Headers.Add("X-Shop-Delivery", delivery.EventId.ToString());
        request.Headers.Add("X-Shop-Signature", Sign(signingSecrets, timestamp, delivery.Payload));
        request.Headers.UserAgent.ParseAdd("Shop-Webhooks/1.0");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.AttemptTimeout);
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return ((int)response.StatusCode, null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"Timed out after {_options.AttemptTimeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>
    /// <c>t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>, one <c>v1</c> per secret
    /// (two during a rotation's grace period, as Stripe does); a subscriber accepts any that matches.
    /// </summary>
    public static string Sign(IEnumerable<string> secrets, long timestamp, string payload)
    {
        var signed = Encoding.UTF8.GetBytes($"{timestamp}.{payload}");
        return $"t={timestamp}," + string.Join(',', secrets.Select(secret =>
            "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed))));
    }

    /// <summary>
    /// The wait before the next attempt after <paramref name="attempts"/> failed ones: the schedule's entry within
    /// ±20 % (<paramref name="random"/> in [0, 1)), so subscribers that failed together are not retried together;
    /// null once the schedule is used up.
    /// </summary>
    internal static TimeSpan? RetryDelay(IReadOnlyList<TimeSpan> schedule, int attempts, double random) =>
        attempts > schedule.Count ? null : schedule[attempts - 1] * (0.8 + random * 0.4);

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}

public sealed class WebhookMetrics
{
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _attemptDuration;
    private long _pending;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create("Shop.Orders.Webhooks");
        _delivered = meter.CreateCounter<long>("shop.webhooks.delivered", description: "Deliveries acknowledged with 2xx");
        _failed = meter.CreateCounter<long>("shop.webhooks.failed", description: "Deliveries given up after the last attempt");
        _attemptDuration = meter.CreateHistogram<double>("shop.webhooks.attempt.duration", unit: "s", description: "Duration of one delivery attempt");
        meter.CreateObservableGauge("shop.webhooks.pending", () => Interlocked.Read(ref _pending), description: "Deliveries waiting to be sent");
    }

    public void Delivered() => _delivered.Add(1);
    public void Failed() => _failed.Add(1);
    public void SetPending(long count) => Interlocked.Exchange(ref _pending, count);
    public void RecordAttempt(TimeSpan elapsed, int? statusCode) =>
        _attemptDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("http.response.status_code", statusCode));
}
