using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>Subscriptions and their secrets: created with a generated secret, rotated with a grace period, removed with their delivery log; each change audited.</summary>
public sealed class WebhookSubscriptions(OrdersDbContext db, WebhookSecrets secrets, IOptions<WebhookOptions> options, SecurityAudit audit)
{
    /// <summary>Newest first; the id breaks ties, so pages neither skip nor repeat a subscription.</summary>
    public Task<Page<T>> ListAsync<T>(Paging paging, Func<WebhookSubscription, T> map, CancellationToken ct) =>
        db.WebhookSubscriptions.AsNoTracking().ToPageAsync(paging, s => s.OrderByDescending(x => x.CreatedAt).ThenBy(x => x.Id), map, ct);

    /// <param name="chosenSecret">The client's secret, already checked; null to generate one.</param>
    /// <returns>The subscription and its secret in plaintext, which is never stored.</returns>
    public async Task<(WebhookSubscription Subscription, string Secret)> CreateAsync(Uri url, IReadOnlyList<string> events, string? chosenSecret, int? actorId, CancellationToken ct)
    {
        var secret = chosenSecret ?? WebhookSecrets.Generate();
        var subscription = new WebhookSubscription
        {
            Id = Guid.NewGuid(),
            Url = url.ToString(),
            Events = events.Contains("*") ? ["*"] : [.. events],
            ProtectedSecret = secrets.Protect(secret),
            IsActive = true,
            CreatedAt = DatabaseTime.UtcNow,
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(ct);
        audit.Record("webhook.created", actorId?.ToString(), subscription.Id.ToString(), $"{url.Host} for {string.Join(' ', subscription.Events)}{(chosenSecret is null ? "" : ", secret chosen by the client")}");
        return (subscription, secret);
    }

    /// <returns>False when there is no such subscription.</returns>
    public async Task<bool> DeleteAsync(Guid id, int? actorId, CancellationToken ct)
    {
        if (await db.WebhookSubscriptions.Where(s => s.Id == id).ExecuteDeleteAsync(ct) == 0)
        {
            return false;
        }
        audit.Record("webhook.deleted", actorId?.ToString(), id.ToString());
        return true;
    }

    /// <returns>The subscription and its new secret in plaintext; null when there is no such subscription.</returns>
    public async Task<(WebhookSubscription Subscription, string Secret)?> RotateSecretAsync(Guid id, int? actorId, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Locked, so two concurrent rotations keep a consistent previous secret (the second waits for the
        // first); NO KEY, so orders writing outbox rows for this subscription meanwhile are not held up.
        var subscription = (await db.WebhookSubscriptions.FromSql($"SELECT * FROM webhook_subscriptions WHERE id = {id} FOR NO KEY UPDATE").ToListAsync(ct)).SingleOrDefault();
        if (subscription is null)
        {
            return null;
        }
        var secret = WebhookSecrets.Generate();
        // A secret whose key is lost cannot sign, so it gets no grace period (and previous_secret_expires_at is null):
        // rotating is how an admin recovers from that loss, and must not fail on it.
        var previous = secrets.CurrentIfReadable(subscription);
        subscription.PreviousProtectedSecret = previous is null ? null : secrets.Protect(previous);
        subscription.PreviousSecretExpiresAt = previous is null ? null : DatabaseTime.ToMicroseconds(DateTime.UtcNow + options.Value.SecretRotationGrace);
        subscription.ProtectedSecret = secrets.Protect(secret);
        subscription.LegacySecret = null;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        audit.Record("webhook.secret_rotated", actorId?.ToString(), id.ToString(), previous is null ? "previous secret unreadable, no grace period" : null);
        return (subscription, secret);
    }

    /// <summary>
    /// Newest first; null when there is no such subscription. While the subscriber is paused as unavailable, a
    /// pending row's next attempt is no earlier than the pause's end, which is when the dispatcher looks again.
    /// </summary>
    public async Task<Page<WebhookDelivery>?> DeliveriesAsync(Guid id, Paging paging, CancellationToken ct)
    {
        var subscription = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.Id == id).Select(s => new { s.PausedUntil }).FirstOrDefaultAsync(ct);
        if (subscription is null)
        {
            return null;
        }
        return await db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == id)
            .ToPageAsync(paging, deliveries => deliveries.OrderByDescending(d => d.Id), d =>
            {
                if (subscription.PausedUntil is { } until && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt < until)
                {
                    d.NextAttemptAt = until;
                }
                return d;
            }, ct);
    }
}
