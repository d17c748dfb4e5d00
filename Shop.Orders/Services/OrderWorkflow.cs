using Microsoft.EntityFrameworkCore;
using Shop.Orders.Data;
using Shop.Orders.Services.Webhooks;

namespace Shop.Orders.Services;

public abstract record StatusChangeOutcome
{
    public sealed record Changed(OrderSnapshot Order) : StatusChangeOutcome;
    public sealed record NotFound : StatusChangeOutcome;
    public sealed record NotAllowed(string Reason) : StatusChangeOutcome;
}

/// <summary>
/// The order status machine (allowed moves: <see cref="OrderStatus.CanMove"/>). The change, its <c>status_changed</c> event, its outbox rows
/// and — for a cancellation — the due stock release commit together; the status is compared and set
/// in one statement, so two racing changes cannot both win and a cancel restocks once.
/// </summary>
public sealed class OrderWorkflow(OrdersDbContext db, WebhookOutbox outbox, StockReleases releases, OrderReader reader)
{
    public async Task<StatusChangeOutcome> ChangeStatusAsync(Guid orderId, string newStatus, int actorId, bool actorIsAdmin, CancellationToken ct)
    {
        var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, ct);
        if (order is null || (!actorIsAdmin && order.UserId != actorId))
        {
            return new StatusChangeOutcome.NotFound();
        }
        var oldStatus = order.Status;
        if (!actorIsAdmin && newStatus != OrderStatus.Cancelled)
        {
            return new StatusChangeOutcome.NotAllowed("You can only cancel your own orders.");
        }
        // "expired" is not among the allowed moves: only OrderExpiry sets it.
        if (!OrderStatus.CanMove(oldStatus, newStatus))
        {
            return new StatusChangeOutcome.NotAllowed($"An order cannot move from {oldStatus} to {newStatus}.");
        }

        var now = DatabaseTime.UtcNow;
        // Run again whole if it met a broken connection: it only writes Orders' rows (the outbox's announcement, the cache
        // and the release in Inventory come after the commit).
        var changed = await db.InAllOrNothingTransactionAsync(async ct =>
        {
            if (await db.Orders.Where(o => o.Id == orderId && o.Status == oldStatus)
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, newStatus).SetProperty(o => o.UpdatedAt, now), ct) == 0)
            {
                return false;
            }
            order.Status = newStatus;
            order.UpdatedAt = now;
            db.OrderEvents.Add(new OrderEvent
            {
                OrderId = orderId,
                EventType = OrderEventTypes.StatusChanged,
                Description = $"Status changed from {oldStatus} to {newStatus}",
                OldValue = oldStatus,
                NewValue = newStatus,
                UserId = actorId,
                CreatedAt = now,
            });
            await outbox.AddAsync(WebhookEventTypes.OrderStatusChanged, order, now, ct);
            if (newStatus == OrderStatus.Cancelled)
            {
                db.StockReleases.Add(new StockRelease { OrderId = orderId, DueAt = now, CreatedAt = now });
            }
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
        if (!changed)
        {
            return new StatusChangeOutcome.NotAllowed("The order changed meanwhile; reload and try again.");
        }
        outbox.AnnounceCommitted();
        await reader.InvalidateAsync(orderId);

        if (newStatus == OrderStatus.Cancelled)
        {
            await releases.TryReleaseNowAsync(orderId);
        }
        return new StatusChangeOutcome.Changed(OrderSnapshot.From(order));
    }
}
