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
        // In a transaction so that meeting a broken connection (a restart) runs it again: it only writes the row, and the
        // audit line comes after the commit. (A save outside a transaction is never run again: it may have committed.)
        await db.InAllOrNothingTransactionAsync(c =>
        {
            db.WebhookSubscriptions.Add(subscription);
            return db.SaveChangesAsync(c);
        }, ct);
        audit.Record("webhook.created", actorId?.ToString(), subscription.Id.ToString(), $"{url.Host} for {string.Join(' ', subscription.Events)}{(chosenSecret is null ? "" : ", secret chosen by the client")}");
        return (subscription, secret);
    }

    /// <returns>False when there is no such subscription.</returns>
    public async Task<bool> DeleteAsync(Guid id, int? actorId, CancellationToken ct)
    {
        // Run again on a fresh connection if it met a broken one: a rolled-back delete changed nothing; the audit comes after.
        if (await db.InAllOrNothingTransactionAsync(c => db.WebhookSubscriptions.Where(s => s.Id == id).ExecuteDeleteAsync(c), ct) == 0)
        {
            return false;
        }
        audit.Record("webhook.deleted", actorId?.ToString(), id.ToString());
        return true;
    }

    /// <returns>The subscription and its new secret in plaintext; null when there is no such subscription.</returns>
    public async Task<(WebhookSubscription Subscription, string Secret)?> RotateSecretAsync(Guid id, int? actorId, CancellationToken ct)
    {
        // Run again whole on a fresh connection if it met a broken one (a restart): the rolled-back try changed nothing, and
        // its new secret was never shown; the run again reads the row anew and makes another. The audit comes after the commit.
        var rotated = await db.InAllOrNothingTransactionAsync(async c =>
        {
            // Locked, so two concurrent rotations keep a consistent previous secret (the second waits for the
            // first); NO KEY, so orders writing outbox rows for this subscription meanwhile are not held up.
            var subscription = (await db.WebhookSubscriptions.FromSql($"SELECT * FROM webhook_subscriptions WHERE id = {id} FOR NO KEY UPDATE").ToListAsync(c)).SingleOrDefault();
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
            await db.SaveChangesAsync(c);
            return ((WebhookSubscription Subscription, string Secret, bool PreviousReadable)?)(subscription, secret, previous is not null);
        }, ct);
        if (rotated is not { } done)
        {
            return null;
        }
        audit.Record("webhook.secret_rotated", actorId?.ToString(), id.ToString(), done.PreviousReadable ? null : "previous secret unreadable, no grace period");
        return (done.Subscription, done.Secret);
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
