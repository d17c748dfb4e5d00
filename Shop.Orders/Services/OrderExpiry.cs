using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Data;
using Shop.Orders.Services.Webhooks;

namespace Shop.Orders.Services;

/// <summary>
/// Expires pending orders past their <c>expires_at</c> (there is no payment step, so otherwise pending stock
/// could be held forever). Like a cancellation, the status change, its <c>status_changed</c> event, its
/// outbox rows and a due stock release commit together; the release is then tried at once and
/// otherwise left to <see cref="StockReleaseWorker"/>.
/// </summary>
public sealed class OrderExpiry(OrdersDbContext db, WebhookOutbox outbox, StockReleases releases, OrderReader reader, OrdersMetrics metrics)
{
    public const int BatchSize = 100;

    /// <summary>Expires one batch of overdue orders; returns how many.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken ct)
    {
        // Run again whole if it met a broken connection (a pass's first statement after a restart): it only locks and writes
        // Orders' rows; the announcement, the metrics, the cache and the releases come after the commit.
        var due = await db.InAllOrNothingTransactionAsync(async ct =>
        {
            // SKIP LOCKED: replicas share the overdue orders instead of queueing on them, and an order whose
            // status someone is changing right now is left to that change (the expiry retries it next pass).
            var batch = await db.Orders.FromSql($"""
                    SELECT * FROM orders
                    WHERE status = 'pending' AND expires_at <= now()
                    ORDER BY expires_at
                    LIMIT {BatchSize}
                    FOR UPDATE SKIP LOCKED
                    """)
                .AsNoTracking().ToListAsync(ct);
            if (batch.Count == 0)
            {
                return batch;
            }

            var now = DatabaseTime.UtcNow;
            var ids = batch.Select(o => o.Id).ToList();
            // The status change updates each owner's pending count (a trigger). Taking those rows first, in
            // user order, keeps two replicas' batches from locking the same users' counts in opposite orders.
            var owners = batch.Select(o => o.UserId).Distinct().Order().ToArray();
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM pending_order_counts WHERE user_id = ANY({owners}) ORDER BY user_id FOR UPDATE", ct);
            await db.Orders.Where(o => ids.Contains(o.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, OrderStatus.Expired).SetProperty(o => o.UpdatedAt, now), ct);
            foreach (var order in batch)
            {
                order.Status = OrderStatus.Expired;
                order.UpdatedAt = now;
                db.OrderEvents.Add(new OrderEvent
                {
                    OrderId = order.Id,
                    EventType = OrderEventTypes.StatusChanged,
                    Description = $"Status changed from {OrderStatus.Pending} to {OrderStatus.Expired}: not paid by {order.ExpiresAt:yyyy-MM-dd HH:mm} UTC; stock returned",
                    OldValue = OrderStatus.Pending,
                    NewValue = OrderStatus.Expired,
                    UserId = null, // the system, not a person
                    CreatedAt = now,
                });
                await outbox.AddAsync(WebhookEventTypes.OrderStatusChanged, order, now, ct);
                db.StockReleases.Add(new StockRelease { OrderId = order.Id, DueAt = now, CreatedAt = now });
            }
            await db.SaveChangesAsync(ct);
            return batch;
        }, ct);
        if (due.Count == 0)
        {
            return 0;
        }
        outbox.AnnounceCommitted();
        metrics.Expired(due.Count);

        foreach (var order in due)
        {
            await reader.InvalidateAsync(order.Id);
            await releases.TryReleaseNowAsync(order.Id);
        }
        return due.Count;
    }
}

/// <summary>Runs <see cref="OrderExpiry"/> every <c>Orders:ExpirySweepInterval</c>, draining any backlog.</summary>
public sealed class OrderExpiryWorker(IServiceScopeFactory scopes, IOptions<OrdersOptions> options, ILogger<OrderExpiryWorker> logger) : RepeatingJob(logger)
{
    protected override TimeSpan Interval => options.Value.ExpirySweepInterval;

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        int expired;
        do
        {
            using var scope = scopes.CreateScope();
            expired = await scope.ServiceProvider.GetRequiredService<OrderExpiry>().ExpireDueAsync(ct);
            if (expired > 0)
            {
                logger.LogInformation("Expired {Count} pending orders and released their stock", expired);
            }
        }
        while (expired == OrderExpiry.BatchSize);
    }
}
