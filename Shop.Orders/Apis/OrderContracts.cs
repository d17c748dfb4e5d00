using Shop.Orders.Data;
using Shop.Orders.Services;

namespace Shop.Orders.Apis;

public sealed record OrderLineResponse(string Sku, string Name, int Qty, decimal UnitPrice, decimal LineTotal);

/// <param name="ExpiresAt">While pending: when the order expires and its stock goes back; otherwise null.</param>
public sealed record OrderResponse(Guid Id, int UserId, string Status, decimal Total, IReadOnlyList<OrderLineResponse> Items, DateTime CreatedAt, DateTime UpdatedAt,
    DateTime? ExpiresAt)
{
    public static OrderResponse From(Order o) => From(OrderSnapshot.From(o));

    public static OrderResponse From(OrderSnapshot o) => new(o.Id, o.UserId, o.Status, o.Total,
        [.. o.Items.Select(i => new OrderLineResponse(i.Sku, i.Name, i.Qty, i.UnitPrice, i.LineTotal))],
        o.CreatedAt, o.UpdatedAt, o.ExpiresAt);
}

public sealed record OrderEventResponse(long Id, Guid OrderId, string EventType, string Description, string? OldValue, string? NewValue, int? UserId, DateTime CreatedAt)
{
    public static OrderEventResponse From(OrderEvent e) => new(e.Id, e.OrderId, e.EventType, e.Description, e.OldValue, e.NewValue, e.UserId,
        DateTime.SpecifyKind(e.CreatedAt, DateTimeKind.Utc));
}

/// <summary>Only sku and qty are read; anything price-like a client sends is ignored.</summary>
public sealed record CreateOrderRequest(List<CreateOrderLine?>? Items);

public sealed record CreateOrderLine(string? Sku, int? Qty);

public sealed record UpdateOrderRequest(string? Status);
