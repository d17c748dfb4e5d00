using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Inventory.Data;

namespace Shop.Inventory.Services;

public sealed class InventoryCacheOptions
{
    /// <summary>Off only to measure what the cache is worth (the benchmark's "uncached" run).</summary>
    public bool Enabled { get; set; } = true;
    public TimeSpan Ttl { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Catalogue reads: one item through the Redis cache-aside (every writer calls <see cref="InvalidateAsync"/>),
/// and the search behind the catalogue listing.
/// </summary>
public sealed class ItemReader(InventoryDbContext db, CacheStore cache, IOptions<InventoryCacheOptions> options)
{
    private readonly InventoryCacheOptions _options = options.Value;

    public static string CacheKey(string sku) => $"inventory:item:{sku}";

    public Task<CachedItem?> GetAsync(string sku, CancellationToken ct) =>
        _options.Enabled ? cache.GetOrLoadAsync(CacheKey(sku), _options.Ttl, LoadAsync(sku), ct) : LoadAsync(sku)(ct);

    private Func<CancellationToken, Task<CachedItem?>> LoadAsync(string sku) => async token =>
    {
        var item = await db.Items.AsNoTracking().FirstOrDefaultAsync(i => i.Sku == sku, token);
        return item is null ? null : CachedItem.From(item);
    };

    /// <summary>
    /// One page of the items whose sku or name contains <paramref name="text"/> (case-insensitive),
    /// optionally only those in stock, by name then sku.
    /// </summary>
    public Task<Page<T>> SearchAsync<T>(string? text, bool inStockOnly, Paging paging, Func<InventoryItem, T> map, CancellationToken ct)
    {
        var query = db.Items.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(text))
        {
            // ILIKE with the wildcards in the search text escaped: a search is never a pattern.
            var pattern = "%" + EscapeLike(text.Trim()) + "%";
            query = query.Where(i => EF.Functions.ILike(i.Sku, pattern, "\\") || EF.Functions.ILike(i.Name, pattern, "\\"));
        }
        if (inStockOnly)
        {
            query = query.Where(i => i.Qty > 0);
        }
        return query.ToPageAsync(paging, items => items.OrderBy(i => i.Name).ThenBy(i => i.Sku), map, ct);
    }

    internal static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    public Task InvalidateAsync(params string[] skus) => cache.InvalidateAsync([.. skus.Select(CacheKey)]);
}
