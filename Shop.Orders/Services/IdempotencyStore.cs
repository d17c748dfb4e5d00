using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Shop.Orders.Data;

namespace Shop.Orders.Services;

public abstract record IdempotencyClaim
{
    /// <summary>
    /// This request owns the key; use <paramref name="OrderId"/> (stable across takeovers).
    /// <paramref name="GuardWritten"/>: the order's release guard was stored with the claim (a new claim;
    /// a takeover's order may or may not have one yet).
    /// </summary>
    public sealed record Claimed(Guid OrderId, bool GuardWritten) : IdempotencyClaim;
    public sealed record Replay(int Status, OrderSnapshot Order) : IdempotencyClaim;
    public sealed record Mismatch : IdempotencyClaim;
    public sealed record StillProcessing : IdempotencyClaim;
}

/// <summary>
/// Idempotency-Key handling (IETF draft): the (user, key) primary key decides who runs a request;
/// a concurrent duplicate waits for the first to finish and gets its stored answer; the same key with
/// another body gets 422; keys live 24 hours. A claim abandoned by a crashed instance is taken over
/// with the same order id, so Inventory's per-order reservation still deducts once. The answer is stored
/// with the order by <c>store_order</c> (<see cref="OrderPlacement"/>), as the order's snapshot rather than
/// REST JSON, so a replay is rendered in whatever the REST shape is when it is replayed.
/// </summary>
public sealed class IdempotencyStore(OrdersDbContext db, ILogger<IdempotencyStore> logger, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(15);

    /// <summary>What makes two requests "the same" for a key: their lines, in order, as sku and quantity.</summary>
    public static string RequestHash(IEnumerable<(string Sku, int Qty)> lines) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(';', lines.Select(l => $"{l.Sku}:{l.Qty}")))));

    /// <param name="guardDueAt">When the new order's release guard falls due (<see cref="StockReleases.AddGuardAsync"/>).</param>
    public async Task<IdempotencyClaim> ClaimAsync(int userId, string key, string requestHash, DateTime guardDueAt, CancellationToken ct)
    {
        var deadline = clock.GetUtcNow().UtcDateTime + MaxWait;
        while (true)
        {
            var orderId = Guid.NewGuid();
            // The claim and the new order's release guard in one statement (one round trip, one commit per
            // order): the guard row is written only when the key was claimed, so a duplicate leaves none. Run again
            // on a fresh connection if it met a broken one (a placement's first statement after a restart): if the
            // first run committed, the second claims nothing and the key is found holding this order id (below).
            var guarded = await db.Database.RerunnableAsync(() => db.Database.ExecuteSqlInterpolatedAsync($"""
                WITH claim AS (
                    INSERT INTO idempotency_keys (user_id, key, request_hash, order_id, state, created_at, updated_at)
                    VALUES ({userId}, {key}, {requestHash}, {orderId}, 'processing', now(), now())
                    ON CONFLICT (user_id, key) DO NOTHING
                    RETURNING order_id)
                INSERT INTO stock_releases (order_id, due_at, attempts, created_at)
                SELECT order_id, {guardDueAt}, 0, now() FROM claim
                """, ct));
            if (guarded == 1)
            {
                return new IdempotencyClaim.Claimed(orderId, GuardWritten: true);
            }

            // The key is someone's: read it until it answers, goes, expires or is abandoned. A key's age and a claim's
            // silence are judged by the database's clock, the one that stamped them (DateTime.UtcNow in the query is
            // PostgreSQL's now()): this host's clock may be minutes off the server's (a container on another node, a VM
            // after suspend). Judged in the read, so a duplicate waiting for a running claim sends one statement per poll.
            while (true)
            {
                var existing = await db.IdempotencyKeys.AsNoTracking()
                    .Where(k => k.UserId == userId && k.Key == key)
                    .Select(k => new KeyAsFound(k, k.CreatedAt < DateTime.UtcNow - Lifetime,
                        k.State == IdempotencyState.Processing && k.UpdatedAt < DateTime.UtcNow - AbandonedAfter))
                    .FirstOrDefaultAsync(ct);
                if (existing is null)
                {
                    break; // released between our insert and read: claim it again
                }
                var record = existing.Record;
                if (existing.Expired)
                {
                    // Only the key as read (another duplicate may have just freed or claimed it: the next read says).
                    if (await db.Database.ExecuteSqlInterpolatedAsync($"""
                            DELETE FROM idempotency_keys
                            WHERE user_id = {userId} AND key = {key} AND created_at = {record.CreatedAt} AND created_at < now() - {Lifetime}
                            """, ct) == 1)
                    {
                        break; // free again: claim it
                    }
                }
                else if (record.OrderId == orderId)
                {
                    // This request's own claim, committed by a run whose answer a broken connection lost (the order id is new per run).
                    return new IdempotencyClaim.Claimed(orderId, GuardWritten: true);
                }
                else if (record.RequestHash != requestHash)
                {
                    return new IdempotencyClaim.Mismatch();
                }
                else if (record.State == IdempotencyState.Completed)
                {
                    return new IdempotencyClaim.Replay(record.ResponseStatus ?? StatusCodes.Status200OK, OrderSnapshot.Parse(record.ResponseBody!));
                }
                // Taken over only if still the claim read above: another duplicate may have just taken it over.
                else if (existing.Abandoned && await db.Database.ExecuteSqlInterpolatedAsync($"""
                        UPDATE idempotency_keys SET updated_at = now()
                        WHERE user_id = {userId} AND key = {key} AND state = {IdempotencyState.Processing}
                          AND updated_at = {record.UpdatedAt} AND updated_at < now() - {AbandonedAfter}
                        """, ct) == 1)
                {
                    logger.LogWarning("Taking over abandoned idempotent request for order {OrderId}", record.OrderId);
                    return new IdempotencyClaim.Claimed(record.OrderId, GuardWritten: false);
                }
                if (clock.GetUtcNow().UtcDateTime > deadline)
                {
                    return new IdempotencyClaim.StillProcessing();
                }
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>A key as read, with the database's judgement of its age (past <see cref="Lifetime"/>) and of its claim's silence.</summary>
    private sealed record KeyAsFound(IdempotencyRecord Record, bool Expired, bool Abandoned);

    /// <summary>Frees the key after a failure that changed nothing, so the client may retry with it.</summary>
    public Task ReleaseAsync(int userId, string key) =>
        db.IdempotencyKeys.Where(k => k.UserId == userId && k.Key == key && k.State == IdempotencyState.Processing)
            .ExecuteDeleteAsync(CancellationToken.None);
}
