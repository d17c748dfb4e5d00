using Shop.Inventory.Data;

namespace Shop.Inventory.Services;

/// <summary>
/// What <see cref="ItemReader"/> keeps in Redis for one sku. Its own type so that a change to the REST
/// body does not change the cache; if this shape changes, change <see cref="ItemReader.CacheKey"/>'s
/// version too, so entries written by the previous shape are never read as the new one.
/// </summary>
public sealed record CachedItem(int Id, string Sku, string Name, decimal Price, int Qty, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static CachedItem From(InventoryItem i) => new(i.Id, i.Sku, i.Name, i.Price, i.Qty,
        DateTime.SpecifyKind(i.CreatedAt, DateTimeKind.Utc), DateTime.SpecifyKind(i.UpdatedAt, DateTimeKind.Utc));
}
