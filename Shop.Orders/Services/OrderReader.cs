using Microsoft.EntityFrameworkCore;
using Shop.Orders.Apis;
using Shop.Orders.Data;

namespace Shop.Orders.Services;

/// <summary>Single-order reads through the Redis cache-aside; status changes invalidate.</summary>
public sealed class OrderReader(OrdersDbContext db, CacheStore cache)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    public static string CacheKey(Guid id) => $"order:{id}";

    public Task<OrderResponse?> GetAsync(Guid id, CancellationToken ct) =>
        cache.GetOrLoadAsync(CacheKey(id), Ttl, async token =>
        {
            var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, token);
            return order is null ? null : OrderResponse.From(order);
        }, ct);

    public Task InvalidateAsync(Guid id) => cache.InvalidateAsync(CacheKey(id));
}
