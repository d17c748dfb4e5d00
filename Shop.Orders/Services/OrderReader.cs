using Microsoft.EntityFrameworkCore;
using Shop.Orders.Data;

namespace Shop.Orders.Services;

/// <summary>Order reads: single orders through the Redis cache-aside (status changes invalidate), lists and audit trails from the database.</summary>
public sealed class OrderReader(OrdersDbContext db, CacheStore cache)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    public static string CacheKey(Guid id) => $"order:{id}";

    public Task<OrderSnapshot?> GetAsync(Guid id, CancellationToken ct) =>
        cache.GetOrLoadAsync(CacheKey(id), Ttl, async token =>
        {
            var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, token);
            return order is null ? null : OrderSnapshot.From(order);
        }, ct);

    public Task InvalidateAsync(Guid id) => cache.InvalidateAsync(CacheKey(id));

    /// <summary>Newest first; <paramref name="userId"/> null means everyone's.</summary>
    public Task<Page<Order>> ListAsync(Paging paging, int? userId, string? status, CancellationToken ct)
    {
        var query = db.Orders.AsNoTracking();
        if (userId is { } owner)
        {
            query = query.Where(o => o.UserId == owner);
        }
        if (status is not null)
        {
            query = query.Where(o => o.Status == status);
        }
        return query.ToPageAsync(paging, orders => orders.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id), o => o, ct);
    }

    /// <summary>The order's audit trail, oldest first.</summary>
    public Task<List<OrderEvent>> EventsAsync(Guid orderId, CancellationToken ct) =>
        db.OrderEvents.AsNoTracking().Where(e => e.OrderId == orderId).OrderBy(e => e.CreatedAt).ThenBy(e => e.Id).ToListAsync(ct);
}
