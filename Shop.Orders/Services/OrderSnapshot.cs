using System.Text.Json;
using System.Text.Json.Serialization;
using Shop.Orders.Data;

namespace Shop.Orders.Services;

/// <summary>
/// An order as this service stores it outside its tables: the Redis cache value and the answer kept with an
/// Idempotency-Key. Its JSON names are fixed here, independent of the REST shape, so renaming a REST field
/// cannot make stored values unreadable; they are the names earlier versions wrote (the REST names then),
/// so cache entries and idempotency rows written before this type existed read back as they are.
/// </summary>
public sealed record OrderSnapshot(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("user_id")] int UserId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("total")] decimal Total,
    [property: JsonPropertyName("items")] IReadOnlyList<OrderSnapshotLine> Items,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTime UpdatedAt,
    [property: JsonPropertyName("expires_at")] DateTime? ExpiresAt)
{
    public static OrderSnapshot From(Order o) => new(o.Id, o.UserId, o.Status, o.Total,
        [.. o.Items.Select(i => new OrderSnapshotLine(i.Sku, i.Name, i.Qty, i.UnitPrice, i.LineTotal))],
        o.CreatedAtUtc, o.UpdatedAtUtc, o.PendingExpiresAtUtc);

    public string ToJson() => JsonSerializer.Serialize(this);

    public static OrderSnapshot Parse(string json) =>
        JsonSerializer.Deserialize<OrderSnapshot>(json) ?? throw new JsonException("A stored order snapshot is null.");
}

public sealed record OrderSnapshotLine(
    [property: JsonPropertyName("sku")] string Sku,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("qty")] int Qty,
    [property: JsonPropertyName("unit_price")] decimal UnitPrice,
    [property: JsonPropertyName("line_total")] decimal LineTotal);
