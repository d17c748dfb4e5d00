using Microsoft.EntityFrameworkCore;
using Shop.Inventory.Data;

namespace Shop.Inventory.Services;

/// <summary>A new catalogue item, already validated.</summary>
public sealed record NewItem(string Sku, string Name, decimal Price, int Qty);

/// <summary>A change to an item: each field that is not null is set.</summary>
public sealed record ItemChange(string? Name, decimal? Price, int? Qty);

public abstract record CreateItemOutcome
{
    public sealed record Created(InventoryItem Item) : CreateItemOutcome;
    public sealed record SkuTaken : CreateItemOutcome;
}

public abstract record AdjustStockOutcome
{
    public sealed record Adjusted(InventoryItem Item) : AdjustStockOutcome;
    public sealed record NotFound : AdjustStockOutcome;
    /// <summary>The delta would take stock below zero or above the maximum; nothing was changed.</summary>
    /// <param name="Qty">The stock when the change was refused, for the caller's message.</param>
    public sealed record OutOfRange(int Qty, int Delta) : AdjustStockOutcome
    {
        public bool BelowZero => (long)Qty + Delta < 0;
    }
}

/// <summary>
/// Admin changes to the catalogue. Each write invalidates the item's cache entry after it commits,
/// so the next read through <see cref="ItemReader"/> sees it.
/// </summary>
public sealed class CatalogueChanges(InventoryDbContext db, ItemReader reader)
{
    public const int QtyMax = 1_000_000_000;

    public async Task<CreateItemOutcome> CreateAsync(NewItem item, CancellationToken ct)
    {
        var now = DatabaseTime.UtcNow;
        var row = new InventoryItem { Sku = item.Sku, Name = item.Name.Trim(), Price = InventoryItem.AsStored(item.Price), Qty = item.Qty, CreatedAt = now, UpdatedAt = now };
        db.Items.Add(row);
        if (!await db.TrySaveUniqueAsync(ct))
        {
            return new CreateItemOutcome.SkuTaken();
        }
        await reader.InvalidateAsync(row.Sku);
        return new CreateItemOutcome.Created(row);
    }

    /// <returns>The changed item, or null when there is no item with this sku.</returns>
    public async Task<InventoryItem?> UpdateAsync(string sku, ItemChange change, CancellationToken ct)
    {
        // One statement that sets the fields named on the row as it is when the write lands, and answers with that row.
        // A read, then a save of what differed from it, skipped a field whose new value equalled the value read: a
        // reservation committing in between kept its stock while the answer said the PATCH's. The casts type the nulls.
        // Run again on a fresh connection if it met a broken one (an admin's first change after a restart: Inventory has no
        // background job to meet the dead pooled connections first): it sets the values given, so a second run after a
        // first that committed changes nothing more. Not so the adjustment below, which adds its delta.
        var updated = await db.Database.RerunnableAsync(() => db.Items
            .FromSql($"""
                UPDATE inventory
                SET name = coalesce({change.Name?.Trim()}::varchar, name), price = coalesce({change.Price}::numeric, price),
                    qty = coalesce({change.Qty}::int, qty), updated_at = now()
                WHERE sku = {sku}
                RETURNING *
                """)
            .AsNoTracking().ToListAsync(ct));
        if (updated.Count == 0)
        {
            return null;
        }
        await reader.InvalidateAsync(sku);
        return updated[0];
    }

    public async Task<AdjustStockOutcome> AdjustAsync(string sku, int delta, CancellationToken ct)
    {
        // One atomic statement: the stock check and the change cannot be split by another writer. Only an addition
        // is held to QtyMax: a restock is never refused, so stock can stand above it, and taking some out must work.
        // The sum is bigint so that stock so far above the limit cannot overflow it.
        var updated = await db.Items
            .FromSql($"""
                UPDATE inventory SET qty = qty + {delta}, updated_at = now()
                WHERE sku = {sku} AND qty::bigint + {delta} >= 0 AND ({delta} <= 0 OR qty::bigint + {delta} <= {QtyMax})
                RETURNING *
                """)
            .AsNoTracking().ToListAsync(ct);
        if (updated.Count == 0)
        {
            var current = await db.Items.Where(i => i.Sku == sku).Select(i => (int?)i.Qty).FirstOrDefaultAsync(ct);
            return current is { } qty ? new AdjustStockOutcome.OutOfRange(qty, delta) : new AdjustStockOutcome.NotFound();
        }
        await reader.InvalidateAsync(sku);
        return new AdjustStockOutcome.Adjusted(updated[0]);
    }

    /// <returns>False when there is no item with this sku.</returns>
    public async Task<bool> DeleteAsync(string sku, CancellationToken ct)
    {
        if (await db.Items.Where(i => i.Sku == sku).ExecuteDeleteAsync(ct) == 0)
        {
            return false;
        }
        await reader.InvalidateAsync(sku);
        return true;
    }
}
