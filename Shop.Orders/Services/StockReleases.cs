using Microsoft.EntityFrameworkCore;
using Shop.Orders.Services.Clients;
using Shop.Orders.Data;

namespace Shop.Orders.Services;

/// <summary>
/// The <c>stock_releases</c> rows: a guard written before stock is reserved for a new order, and a
/// due release written with a cancellation. Each row is deleted once Inventory has the stock back;
/// whatever cannot be released now stays for <see cref="StockReleaseWorker"/>.
/// </summary>
public sealed class StockReleases(OrdersDbContext db, InventoryClient inventory, StockReleaseSignal worker, ILogger<StockReleases> logger)
{
    /// <summary>How long a placement may take before its stock is considered abandoned.</summary>
    public static readonly TimeSpan GuardDelay = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>When a guard written now falls due.</summary>
    public static DateTime GuardDueAt() => DateTime.UtcNow + GuardDelay;

    /// <summary>
    /// Stores the guard that gives the stock back if the order is never stored. Run again on a fresh connection if it met a
    /// broken one (a placement's first statement after a restart): a second insert of the same order's guard does nothing.
    /// </summary>
    public Task AddGuardAsync(Guid orderId, CancellationToken ct) =>
        db.Database.RerunnableAsync(() => db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO stock_releases (order_id, due_at, attempts, created_at)
            VALUES ({orderId}, {GuardDueAt()}, 0, now())
            ON CONFLICT (order_id) DO NOTHING
            """, ct));

    /// <summary>
    /// Gives the stock back now if the order was not stored (<see cref="ReleaseAsync"/>); if Inventory or the
    /// database cannot be reached, hands the order to this replica's worker (<see cref="StockReleaseSignal.ReleaseNow"/>),
    /// which tries it at once and after each failed pass, and the row falls due for every replica at the guard's delay.
    /// </summary>
    public async Task TryReleaseNowAsync(Guid orderId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(ReleaseTimeout);
            if (await ReleaseAsync(db, inventory, orderId, timeout.Token) != ReleaseOutcome.NothingToRelease)
            {
                await DeleteAsync(orderId);
            }
        }
        catch (Exception e) when (e is ServiceUnavailableException or OperationCanceledException || IsDatabaseFailure(e))
        {
            // Perhaps the store committed and only its answer was lost: only the row can tell, so the worker
            // releases through it as soon as the database and Inventory answer.
            logger.LogWarning("Release of order {OrderId} deferred to the background worker", orderId);
            worker.ReleaseNow(orderId);
        }
    }

    public enum ReleaseOutcome
    {
        /// <summary>Inventory has the stock back (or never had any); the row may be deleted.</summary>
        Released,
        /// <summary>The order is live: nothing was given back, and the row may be deleted.</summary>
        OrderLive,
        /// <summary>No row: the order was stored (its store took the guard) or another release finished first.</summary>
        NothingToRelease,
    }

    /// <summary>
    /// Gives an order's stock back through its row, never around it. The row is first marked
    /// <see cref="StockRelease.Releasing"/> and that is committed: a store of the order that has not taken the
    /// guard yet will now refuse, and one that has (it deleted the row) leaves nothing to mark. Only then is the
    /// order checked and Inventory asked. Without the mark, a release decided on "no order stored" could race a
    /// store committing meanwhile (or a store whose commit succeeded but whose answer was lost): an order stored
    /// with its stock given back, sold twice.
    /// </summary>
    public static async Task<ReleaseOutcome> ReleaseAsync(OrdersDbContext db, InventoryClient inventory, Guid orderId, CancellationToken ct)
    {
        var marked = await db.StockReleases.Where(r => r.OrderId == orderId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Releasing, true), ct);
        if (marked == 0)
        {
            return ReleaseOutcome.NothingToRelease;
        }
        // A cancelled or expired order's stock is released through its row too; a live order's never (its store
        // took the guard, so a row for it is a cancellation's that a status change reverted: belt and braces).
        if (await db.Orders.AnyAsync(o => o.Id == orderId && !OrderStatus.Released.Contains(o.Status), ct))
        {
            return ReleaseOutcome.OrderLive;
        }
        await inventory.ReleaseAsync(orderId, ct);
        return ReleaseOutcome.Released;
    }

    /// <summary>
    /// Makes the row due at once (a reservation whose outcome is unknown while Inventory is unreachable);
    /// at commit the database wakes the release worker of every replica.
    /// </summary>
    public async Task ExpediteAsync(Guid orderId)
    {
        try
        {
            await db.StockReleases.Where(r => r.OrderId == orderId)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.DueAt, DateTime.UtcNow), CancellationToken.None);
        }
        catch (Exception e) when (IsDatabaseFailure(e))
        {
            logger.LogWarning(e, "Could not expedite the stock release of order {OrderId}; it falls due on its own", orderId);
        }
    }

    /// <summary>Deletes the row once nothing is left to release.</summary>
    public async Task DeleteAsync(Guid orderId)
    {
        try
        {
            await DeleteRowAsync(db, orderId, CancellationToken.None);
        }
        catch (Exception e) when (IsDatabaseFailure(e))
        {
            // The worker will find the row, see nothing live, and release (a no-op) later.
            logger.LogWarning(e, "Could not delete the stock release row of order {OrderId}", orderId);
        }
    }

    /// <summary>
    /// Deletes an order's row through its key's index whatever the table's statistics say
    /// (Data/Migrations/…ReleaseGuardDeletedByKey): the worker's deletions, and a refused placement's, which come as
    /// often as stored orders' during a sell-out. Run again on a fresh connection if it met a broken one (the database
    /// ended its sessions while Inventory was asked: the worker's pass failed): deleting the row again deletes nothing more.
    /// </summary>
    public static Task DeleteRowAsync(OrdersDbContext db, Guid orderId, CancellationToken ct) =>
        db.Database.RerunnableAsync(() => db.Database.ExecuteSqlInterpolatedAsync($"SELECT delete_stock_release({orderId})", ct));

    private static bool IsDatabaseFailure(Exception e) => e is DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException;
}
