using Shop.Inventory.Data;
using Shop.Inventory.Services;

namespace Shop.Inventory.Apis;

public sealed record ItemResponse(int Id, string Sku, string Name, decimal Price, int Qty, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ItemResponse From(InventoryItem i) => From(CachedItem.From(i));

    public static ItemResponse From(CachedItem i) => new(i.Id, i.Sku, i.Name, i.Price, i.Qty, i.CreatedAt, i.UpdatedAt);
}

public sealed record CreateItemRequest(string? Sku, string? Name, decimal? Price, int? Qty);

public sealed record UpdateItemRequest(string? Name, decimal? Price, int? Qty);

public sealed record AdjustRequest(int? Delta);

public sealed record ReserveRequest(Guid? OrderId, List<ReserveLineRequest>? Items);

public sealed record ReserveLineRequest(string? Sku, int? Qty);

public sealed record ReservationResponse(Guid OrderId, string Status, IReadOnlyList<ReservedLine> Lines)
{
    public static ReservationResponse From(Reservation r) =>
        new(r.OrderId, r.Status, [.. r.Lines.Select(l => new ReservedLine(l.Sku, l.Name, l.Qty, l.UnitPrice))]);
}

public sealed record ReservedLine(string Sku, string Name, int Qty, decimal UnitPrice);

public sealed record ReleaseResponse(Guid OrderId, bool Released);

public sealed record StockShortage(string Sku, int Requested, int Available)
{
    public static StockShortage From(Shortage s) => new(s.Sku, s.Requested, s.Available);
}
