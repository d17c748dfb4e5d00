using Shop.Inventory.Data;

namespace Shop.Inventory.Apis;

public sealed record ItemResponse(int Id, string Sku, string Name, decimal Price, int Qty, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ItemResponse From(InventoryItem i) => new(i.Id, i.Sku, i.Name, i.Price, i.Qty,
        DateTime.SpecifyKind(i.CreatedAt, DateTimeKind.Utc), DateTime.SpecifyKind(i.UpdatedAt, DateTimeKind.Utc));
}

public sealed record CreateItemRequest(string? Sku, string? Name, decimal? Price, int? Qty);

public sealed record UpdateItemRequest(string? Name, decimal? Price, int? Qty);

public sealed record AdjustRequest(int? Delta);

public sealed record ReserveRequest(Guid? OrderId, List<ReserveLineRequest>? Items);

public sealed record ReserveLineRequest(string? Sku, int? Qty);

public sealed record ReservationResponse(Guid OrderId, string Status, IReadOnlyList<ReservedLine> Lines);

public sealed record ReservedLine(string Sku, string Name, int Qty, decimal UnitPrice);

public sealed record ReleaseResponse(Guid OrderId, bool Released);

public sealed record StockShortage(string Sku, int Requested, int Available);
