using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Data;
using Shop.Orders.Services.Webhooks;

namespace Shop.Orders.Services;

/// <summary>
/// Deletes what no longer serves anyone: idempotency keys after their 24 hours, finished
/// webhook deliveries after <c>Orders:Retention:WebhookDeliveries</c>. In batches, each its own
/// statement picking rows with <c>FOR UPDATE SKIP LOCKED</c>, so replicas running it at once split the
/// work and no batch holds many locks for long. The rows are picked once, in a materialized CTE: under
/// <c>IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)</c> a plan that rescans the subquery deletes far more than
/// a batch (migration WebhookClaimTakesItsLimit says why). Also encrypts any plaintext webhook secret an older
/// version left (at start, and during a rolling update while old replicas still write them).
/// </summary>
public sealed class RetentionJob(IServiceScopeFactory scopes, IOptions<OrdersOptions> options, OrdersMetrics metrics, ILogger<RetentionJob> logger)
    : RepeatingJob(logger)
{
    /// <summary>A pass stops after this many batches per table and goes on at the next, leaving the database to others.</summary>
    private const int MaxBatchesPerPass = 50;

    private RetentionOptions Retention => options.Value.Retention;

    protected override TimeSpan Interval => Retention.SweepInterval;

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
        await scope.ServiceProvider.GetRequiredService<WebhookSecrets>().EncryptLegacySecretsAsync(db, ct);

        var batch = Retention.BatchSize;
        var keysBefore = DateTime.UtcNow - IdempotencyStore.Lifetime;
        await PurgeAsync("idempotency_keys", () => db.Database.ExecuteSqlAsync($"""
            WITH picked AS MATERIALIZED (
                SELECT user_id, key FROM idempotency_keys WHERE created_at < {keysBefore} LIMIT {batch} FOR UPDATE SKIP LOCKED)
            DELETE FROM idempotency_keys k USING picked WHERE k.user_id = picked.user_id AND k.key = picked.key
            """, ct));

        var deliveriesBefore = DateTime.UtcNow - Retention.WebhookDeliveries;
        await PurgeAsync("webhook_deliveries", () => db.Database.ExecuteSqlAsync($"""
            WITH picked AS MATERIALIZED (
                SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < {deliveriesBefore} LIMIT {batch} FOR UPDATE SKIP LOCKED)
            DELETE FROM webhook_deliveries d USING picked WHERE d.id = picked.id
            """, ct));
    }

    private async Task PurgeAsync(string table, Func<Task<int>> deleteBatch)
    {
        var total = 0;
        for (var i = 0; i < MaxBatchesPerPass; i++)
        {
            var deleted = await deleteBatch();
            total += deleted;
            metrics.Purged(table, deleted);
            if (deleted < Retention.BatchSize)
            {
                break;
            }
        }
        if (total > 0)
        {
            logger.LogInformation("Retention purged {Count} rows from {Table}", total, table);
        }
    }
}
