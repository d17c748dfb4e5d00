using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Writes one outbox row per interested active subscription, inside the caller's transaction, so an
/// event exists exactly when the order change it describes was committed (the database function
/// <c>add_webhook_outbox_rows</c> decides which subscriptions are interested). After the commit the caller
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

    /// <summary>Writes the event's outbox rows in the caller's transaction (one statement: <c>add_webhook_outbox_rows</c>).</summary>
    public async Task AddAsync(string eventType, Order order, DateTime at, CancellationToken ct)
    {
        var e = NewEvent(eventType, order, at);
        var written = await db.Database.SqlQuery<int>(
                $"SELECT add_webhook_outbox_rows({e.Type}, {e.Id}, {order.Id}, {e.Payload}, {at}) AS \"Value\"")
            .ToListAsync(ct);
        Written(written[0]);
    }

    /// <summary>
    /// The event as every subscription receives it, for a statement that writes its outbox rows itself
    /// (<c>store_order</c>); the caller reports the rows it wrote with <see cref="Written"/>.
    /// </summary>
    public OutboxEvent NewEvent(string eventType, Order order, DateTime at)
    {
        var eventId = Guid.NewGuid();
        return new OutboxEvent(eventType, eventId, JsonSerializer.Serialize(OrderWebhookV1.For(eventId, eventType, at, order), _json));
    }

    /// <summary>Rows written in the caller's transaction, announced by <see cref="AnnounceCommitted"/>.</summary>
    public void Written(int rows)
    {
        if (rows > 0)
        {
            _unannounced = true;
        }
    }
}

/// <summary>One event for the outbox: the same id and payload for every subscription.</summary>
public sealed record OutboxEvent(string Type, Guid Id, string Payload);
