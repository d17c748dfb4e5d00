namespace Shop.Orders.Data;

public sealed class Order
{
    public Guid Id { get; set; }
    public int UserId { get; set; }
    public decimal Total { get; set; }
    public string Status { get; set; } = OrderStatus.Pending;
    public List<OrderLine> Items { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>When a still-pending order expires and its stock goes back (set at placement).</summary>
    public DateTime? ExpiresAt { get; set; }

    // PostgreSQL's timestamp columns come back with an unspecified kind; every shape the order leaves in is UTC.
    // Read-only, so EF maps no column for them.
    public DateTime CreatedAtUtc => DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc);
    public DateTime UpdatedAtUtc => DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc);

    /// <summary>The expiry while the order is pending; null once it is anything else.</summary>
    public DateTime? PendingExpiresAtUtc => Status == OrderStatus.Pending && ExpiresAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null;
}

/// <summary>A line as sold: name and unit price are Inventory's at order time, never the client's.</summary>
public sealed class OrderLine
{
    public required string Sku { get; set; }
    public required string Name { get; set; }
    public int Qty { get; set; }
    public decimal UnitPrice { get; set; }
    public decimal LineTotal { get; set; }
}

public sealed class OrderEvent
{
    public long Id { get; set; }
    public Guid OrderId { get; set; }
    public required string EventType { get; set; }
    public required string Description { get; set; }
    public string? OldValue { get; set; }
    public string? NewValue { get; set; }
    public int? UserId { get; set; }
    public DateTime CreatedAt { get; set; }
}

public static class OrderStatus
{
    public const string Pending = "pending";
    public const string Paid = "paid";
    public const string Shipped = "shipped";
    public const string Delivered = "delivered";
    public const string Cancelled = "cancelled";

    /// <summary>Pending for longer than <c>Orders:PendingExpiry</c>; set only by the expiry job, never by hand.</summary>
    public const string Expired = "expired";

    public static readonly string[] All = [Pending, Paid, Shipped, Delivered, Cancelled, Expired];

    /// <summary>Statuses whose stock has gone back to Inventory.</summary>
    public static readonly string[] Released = [Cancelled, Expired];

    private static readonly HashSet<(string From, string To)> Allowed =
    [
        (Pending, Paid), (Pending, Cancelled), (Paid, Shipped), (Paid, Cancelled), (Shipped, Delivered),
    ];

    public static bool CanMove(string from, string to) => Allowed.Contains((from, to));
}

public static class OrderEventTypes
{
    public const string Created = "created";
    public const string StatusChanged = "status_changed";
}

/// <summary>One Idempotency-Key of one user: claimed while processing, then holding the answer for 24 h.</summary>
public sealed class IdempotencyRecord
{
    public int UserId { get; set; }
    public required string Key { get; set; }
    public required string RequestHash { get; set; }
    public Guid OrderId { get; set; }
    public string State { get; set; } = IdempotencyState.Processing;
    public int? ResponseStatus { get; set; }
    public string? ResponseBody { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public static class IdempotencyState
{
    public const string Processing = "processing";
    public const string Completed = "completed";
}

/// <summary>
/// Stock that must go back to Inventory unless something else happens first: written before a
/// reservation (deleted in the transaction that stores the order) and in the transaction that
/// cancels an order. A background worker releases whatever is due, so no crash loses stock.
/// </summary>
public sealed class StockRelease
{
    public Guid OrderId { get; set; }
    public DateTime DueAt { get; set; }
    public int Attempts { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// Set, and committed, before the stock is given back: from then on <c>store_order</c> refuses to store the
    /// order (it takes only a guard nobody is releasing), so a release and a store of one order never both happen.
    /// </summary>
    public bool Releasing { get; set; }
}
