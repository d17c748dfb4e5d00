using Microsoft.EntityFrameworkCore;
using Npgsql;
using Shop.Inventory.Data;

namespace Shop.Inventory.Services;

/// <summary>A line that cannot be reserved: more requested than is in stock.</summary>
public sealed record Shortage(string Sku, int Requested, int Available);

public abstract record ReserveOutcome
{
    public sealed record Reserved(Reservation Reservation) : ReserveOutcome;
    public sealed record Short(IReadOnlyList<Shortage> Shortages) : ReserveOutcome;
    public sealed record UnknownSkus(IReadOnlyList<string> Skus) : ReserveOutcome;
    public sealed record AlreadyReleased : ReserveOutcome;
}

/// <summary>
/// All-or-nothing stock reservation per order, in one statement (the <c>reserve_stock</c> function).
/// Rows are locked in sku order (<c>SELECT … FOR UPDATE</c>), so concurrent multi-line orders and
/// releases cannot deadlock; the reservation row keyed by order id makes a retry return the first
/// result instead of deducting twice, and the release flips its status once, so a restock happens
/// at most once. <c>qty >= 0</c> is also a database constraint.
/// </summary>
public sealed class StockReservations(InventoryDbContext db, ItemReader reader)
{
    public async Task<ReserveOutcome> ReserveAsync(Guid orderId, IReadOnlyList<(string Sku, int Qty)> lines, CancellationToken ct)
    {
        var skus = lines.Select(l => l.Sku).ToArray();
        var qtys = lines.Select(l => l.Qty).ToArray();
        // One statement, one implicit transaction: see Data/Sql/reserve_stock.sql. Run again on a fresh connection if it met
        // a broken one (the first reservation after a restart): keyed by the order id, a second run answers "exists" if the
        // first committed, and the reservation is read back below, so stock is taken once.
        var rows = await db.Database.RerunnableAsync(() => db.Database.SqlQuery<ReserveStockRow>($"""
            SELECT outcome, sku, name, qty, available, unit_price
            FROM reserve_stock({orderId}, {skus}, {qtys})
            """).ToListAsync(ct));

        if (rows is [{ Outcome: "exists" }])
        {
            return await ExistingAsync(orderId, ct);
        }
        var unknown = rows.Where(r => r.Outcome == "unknown").Select(r => r.Sku!).ToList();
        if (unknown.Count > 0)
        {
            return new ReserveOutcome.UnknownSkus(unknown);
        }
        if (rows.Any(r => r.Outcome == "short"))
        {
            return new ReserveOutcome.Short([.. rows.Select(r => new Shortage(r.Sku!, r.Qty!.Value, r.Available!.Value))]);
        }

        await reader.InvalidateAsync(skus);
        return new ReserveOutcome.Reserved(new Reservation
        {
            OrderId = orderId,
            Status = ReservationStatus.Reserved,
            Lines = [.. rows.Select(r => new ReservationLine { OrderId = orderId, Sku = r.Sku!, Name = r.Name!, Qty = r.Qty!.Value, UnitPrice = r.UnitPrice!.Value })],
        });
    }

    private sealed class ReserveStockRow
    {
        public required string Outcome { get; init; }
        public string? Sku { get; init; }
        public string? Name { get; init; }
        public int? Qty { get; init; }
        public int? Available { get; init; }
        public decimal? UnitPrice { get; init; }
    }

    /// <summary>
    /// Restocks an order's lines once. Releasing an order id that was never reserved leaves a
    /// released tombstone, so a reservation request that arrives late cannot take stock for an
    /// order that was already given up.
    /// </summary>
    public async Task<bool> ReleaseAsync(Guid orderId, CancellationToken ct)
    {
        // Run again whole if it met a broken connection: it only changes Inventory's rows; the cache is told after the commit.
        var (restocked, skus) = await db.InAllOrNothingTransactionAsync(async ct =>
        {
            var tombstoned = await db.Database.ExecuteSqlInterpolatedAsync(
                $"INSERT INTO reservations (order_id, status, created_at, released_at) VALUES ({orderId}, 'released', now(), now()) ON CONFLICT (order_id) DO NOTHING", ct);
            if (tombstoned == 1)
            {
                return (false, Array.Empty<string>());
            }

            var released = await db.Database.ExecuteSqlInterpolatedAsync(
                $"UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = {orderId} AND status = 'reserved'", ct);
            var skus = await db.ReservationLines.AsNoTracking().Where(l => l.OrderId == orderId)
                .OrderBy(l => l.Sku).Select(l => l.Sku).ToArrayAsync(ct);
            if (released == 0)
            {
                return (false, skus);
            }
            // Each line goes back to the item it was taken from (item_id, migration ReservationLinesKeepTheirItem): an item
            // deleted meanwhile takes its stock with it, and one created since under the same sku is not credited. Lines
            // reserved before that migration name no item and go back by sku. Locked in sku order first, like
            // reservations do, so the two never deadlock each other.
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                SELECT 1 FROM inventory AS i JOIN reservation_lines AS l ON i.id = l.item_id OR (l.item_id IS NULL AND i.sku = l.sku)
                WHERE l.order_id = {orderId} ORDER BY i.sku FOR UPDATE OF i
                """, ct);
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                UPDATE inventory AS i SET qty = i.qty + l.qty, updated_at = now()
                FROM reservation_lines AS l
                WHERE l.order_id = {orderId} AND (i.id = l.item_id OR (l.item_id IS NULL AND i.sku = l.sku))
                """, ct);
            return (true, skus);
        }, ct);
        // Also when another call released the order (the release worker's pass racing a cancel's own release): its
        // restock is committed but its invalidation may not be made yet, and this caller's answer must not come first.
        await reader.InvalidateAsync(skus);
        return restocked;
    }

    /// <summary>The order's reservation with its lines in sku order, or null if the order id was never seen.</summary>
    public async Task<Reservation?> FindAsync(Guid orderId, CancellationToken ct)
    {
        var reservation = await db.Reservations.AsNoTracking().Include(r => r.Lines)
            .FirstOrDefaultAsync(r => r.OrderId == orderId, ct);
        reservation?.Lines.Sort((a, b) => string.Compare(a.Sku, b.Sku, StringComparison.CurrentCulture));
        return reservation;
    }

    /// <summary>
    /// Σ quantity held by active reservations per item, keyed by the item's sku: what the invariant checks reconcile
    /// against. A line counts for the item a release would return it to (its item_id; by sku for lines from before
    /// ReservationLinesKeepTheirItem), so a deleted item's held units count for no one, not for the item that took its sku.
    /// A read, run again on a fresh connection if it met a broken one: EF counts raw SQL as no read and would not.
    /// </summary>
    public Task<Dictionary<string, int>> HeldTotalsAsync(CancellationToken ct) =>
        db.Database.RerunnableAsync(() => db.Database.SqlQuery<HeldTotalRow>($"""
            SELECT i.sku, sum(l.qty)::int AS qty
            FROM reservation_lines AS l
            JOIN reservations AS r ON r.order_id = l.order_id AND r.status = 'reserved'
            JOIN inventory AS i ON i.id = l.item_id OR (l.item_id IS NULL AND i.sku = l.sku)
            GROUP BY i.sku
            """).ToDictionaryAsync(x => x.Sku, x => x.Qty, ct));

    private sealed class HeldTotalRow
    {
        public required string Sku { get; init; }
        public int Qty { get; init; }
    }

    private async Task<ReserveOutcome> ExistingAsync(Guid orderId, CancellationToken ct)
    {
        var existing = await FindAsync(orderId, ct);
        return existing is null || existing.Status == ReservationStatus.Released
            ? new ReserveOutcome.AlreadyReleased()
            : new ReserveOutcome.Reserved(existing);
    }
}
