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

    /// <summary>
    /// A price as its numeric(12,2) column holds it, so the answer that writes it shows what every read shows: an admin's
    /// 7 or 1.50000 is 7.00 or 1.50 (a decimal keeps the scale it was sent with; validation refused more than 2 decimals).
    /// </summary>
    public static decimal AsStored(decimal price) => decimal.Round(price, 2) + 0.00m;
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
