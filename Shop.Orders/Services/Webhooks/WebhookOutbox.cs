using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Writes one outbox row per interested active subscription, inside the caller's transaction, so an
/// event exists exactly when the order change it describes was committed. After the commit the caller
/// calls <see cref="AnnounceCommitted"/>, which wakes the dispatchers (<see cref="OutboxAnnouncer"/>).
/// </summary>
public sealed class WebhookOutbox(OrdersDbContext db, IOptions<JsonOptions> json, OutboxAnnouncer announcer)
{
    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;
    private bool _unannounced;

    /// <summary>The caller's transaction has committed: if it wrote outbox rows, the dispatchers hear of them.</summary>
    public void AnnounceCommitted()
    {
        if (_unannounced)
        {
            _unannounced = false;
            announcer.Announce();
        }
    }

    public async Task AddAsync(string eventType, Order order, DateTime at, CancellationToken ct)
    {
        // FOR KEY SHARE, in the caller's transaction: a subscription deleted meanwhile would otherwise fail
        // this insert on its foreign key (and with it the order); the delete now waits for the commit.
        var subscriptions = await db.Database.SqlQuery<Guid>($"""
                SELECT id AS "Value" FROM webhook_subscriptions
                WHERE is_active AND (events @> ARRAY['*']::text[] OR events @> ARRAY[{eventType}]::text[])
                FOR KEY SHARE
                """)
            .ToListAsync(ct);
        if (subscriptions.Count == 0)
        {
            return;
        }
        var eventId = Guid.NewGuid();
        var payload = JsonSerializer.Serialize(OrderWebhookV1.For(eventId, eventType, at, order), _json);
        _unannounced = true;
        foreach (var subscriptionId in subscriptions)
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                SubscriptionId = subscriptionId,
                EventId = eventId,
                EventType = eventType,
                OrderId = order.Id,
                Payload = payload,
                NextAttemptAt = at,
                CreatedAt = at,
            });
        }
    }
}
