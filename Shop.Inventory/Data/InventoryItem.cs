namespace Shop.Inventory.Data;

public sealed class InventoryItem
{
    public int Id { get; set; }
    public required string Sku { get; set; }
    public required string Name { get; set; }
    public decimal Price { get; set; }
    public int Qty { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>Stock held for one order: created once per order id, released (restocked) at most once.</summary>
public sealed class Reservation
{
    public Guid OrderId { get; set; }
    public string Status { get; set; } = ReservationStatus.Reserved;
    public DateTime CreatedAt { get; set; }
    public DateTime? ReleasedAt { get; set; }
    public List<ReservationLine> Lines { get; set; } = [];
}

public sealed class ReservationLine
{
    public Guid OrderId { get; set; }
    public required string Sku { get; set; }
    public required string Name { get; set; }
    public int Qty { get; set; }
    public decimal UnitPrice { get; set; }
}

public static class ReservationStatus
{
    public const string Reserved = "reserved";
    public const string Released = "released";
}
