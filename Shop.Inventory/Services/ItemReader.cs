using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Inventory.Apis;
using Shop.Inventory.Data;

namespace Shop.Inventory.Services;

public sealed class InventoryCacheOptions
{
    /// <summary>Off only to measure what the cache is worth (the benchmark's "uncached" run).</summary>
    public bool Enabled { get; set; } = true;
    public TimeSpan Ttl { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Item reads through the Redis cache-aside; every writer calls <see cref="InvalidateAsync"/>.</summary>
public sealed class ItemReader(InventoryDbContext db, CacheStore cache, IOptions<InventoryCacheOptions> options)
{
    private readonly InventoryCacheOptions _options = options.Value;

    public static string CacheKey(string sku) => $"inventory:item:{sku}";

    public Task<ItemResponse?> GetAsync(string sku, CancellationToken ct) =>
        _options.Enabled ? cache.GetOrLoadAsync(CacheKey(sku), _options.Ttl, LoadAsync(sku), ct) : LoadAsync(sku)(ct);

    private Func<CancellationToken, Task<ItemResponse?>> LoadAsync(string sku) => async token =>
    {
        var item = await db.Items.AsNoTracking().FirstOrDefaultAsync(i => i.Sku == sku, token);
        return item is null ? null : ItemResponse.From(item);
    };

    public Task InvalidateAsync(params string[] skus) => cache.InvalidateAsync([.. skus.Select(CacheKey)]);
}
