using System.Text.Json.Serialization;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Version 1 of the webhook payload of <c>order.created</c> and <c>order.status_changed</c>, as subscribers
/// receive it. A contract with other people's code, so its JSON names are written here rather than derived
/// from the REST shape or the naming policy; Shop.UnitTests/Orders/Samples/order.created.v1.json pins it.
/// Adding a field is compatible; renaming, removing or retyping one needs a v2 (README, "Webhook payload versions").
/// </summary>
public sealed record OrderWebhookV1(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("data")] OrderWebhookDataV1 Data)
{
    public static OrderWebhookV1 For(Guid eventId, string eventType, DateTime at, Order order) =>
        new(eventId, eventType, at, new OrderWebhookDataV1(OrderWebhookOrderV1.From(order)));
}

public sealed record OrderWebhookDataV1([property: JsonPropertyName("order")] OrderWebhookOrderV1 Order);

/// <param name="ExpiresAt">While pending: when the order expires; otherwise null.</param>
public sealed record OrderWebhookOrderV1(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("user_id")] int UserId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("total")] decimal Total,
    [property: JsonPropertyName("items")] IReadOnlyList<OrderWebhookLineV1> Items,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTime UpdatedAt,
    [property: JsonPropertyName("expires_at")] DateTime? ExpiresAt)
{
    public static OrderWebhookOrderV1 From(Order o) => new(o.Id, o.UserId, o.Status, o.Total,
        [.. o.Items.Select(i => new OrderWebhookLineV1(i.Sku, i.Name, i.Qty, i.UnitPrice, i.LineTotal))],
        o.CreatedAtUtc, o.UpdatedAtUtc, o.PendingExpiresAtUtc);
}

public sealed record OrderWebhookLineV1(
    [property: JsonPropertyName("sku")] string Sku,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("qty")] int Qty,
    [property: JsonPropertyName("unit_price")] decimal UnitPrice,
    [property: JsonPropertyName("line_total")] decimal LineTotal);
