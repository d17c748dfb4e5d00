using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Tells the dispatchers that outbox rows were committed, after the commit and outside the order's
/// transaction. This replica's dispatcher is woken at once, in memory; the other replicas hear it from
/// one <c>NOTIFY</c> on <see cref="DatabaseNotificationListener.OutboxChannel"/>, sent by this loop at most once
/// per <see cref="WebhookOptions.AnnounceInterval"/>, for every burst of commits rather than once per order.
/// <para>
/// Why not a trigger in the order's transaction, as before: PostgreSQL serialises every commit that has
/// notifications queued on one server-wide lock, held through the commit's WAL flush, so concurrent orders
/// could not share a flush (docs/performance.md, Round 6). A lost announcement only delays the other
/// replicas until their fallback poll; the writer's own dispatcher has the rows already.
/// </para>
/// </summary>
public sealed class OutboxAnnouncer(
    IServiceScopeFactory scopes, WebhookDispatchSignal dispatcher, IOptions<WebhookOptions> options, ILogger<OutboxAnnouncer> logger) : BackgroundService
{
    /// <summary>The payload of this process' notifications, so that its own listener can ignore them.</summary>
    public static readonly string ReplicaId = Guid.NewGuid().ToString("N");

    /// <summary>Set by every announcement; those made while a NOTIFY is being sent collapse into the next one.</summary>
    private sealed class PendingAnnouncement : WakeSignal;

    private readonly PendingAnnouncement _pending = new();

    /// <summary>Outbox rows were committed: wakes this replica's dispatcher now and the others soon.</summary>
    public void Announce()
    {
        dispatcher.Notify();
        _pending.Notify();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _pending.WaitAsync(stoppingToken);
                using var scope = scopes.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
                await db.Database.ExecuteSqlAsync($"SELECT pg_notify({DatabaseNotificationListener.OutboxChannel}, {ReplicaId})", stoppingToken);
                // Collapsing only the commits made while a NOTIFY was being sent still left one for most orders
                // at 8 clients (docs/performance.md, Round 18); the pause makes the next one cover a whole interval.
                await Task.Delay(options.Value.AnnounceInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The other replicas find the rows at their next poll; nothing is lost.
                logger.LogWarning(e, "Could not announce committed webhook deliveries to the other replicas; they will find them at their next poll");
            }
        }
    }
}
