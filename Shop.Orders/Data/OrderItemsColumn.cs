using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Shop.Orders.Data;

/// <summary>
/// The <c>orders.items</c> JSON column as EF Core writes and reads it, for <c>store_order</c>, which inserts
/// the order without EF. The property names come from the model, so they stay whatever EF maps them to.
/// </summary>
public static class OrderItemsColumn
{
    private static Names? _names;

    public static string ToJson(IModel model, IEnumerable<OrderLine> lines)
    {
        var names = _names ??= Names.From(model);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var line in lines)
            {
                json.WriteStartObject();
                json.WriteString(names.Sku, line.Sku);
                json.WriteString(names.Name, line.Name);
                json.WriteNumber(names.Qty, line.Qty);
                json.WriteNumber(names.UnitPrice, line.UnitPrice);
                json.WriteNumber(names.LineTotal, line.LineTotal);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private sealed record Names(string Sku, string Name, string Qty, string UnitPrice, string LineTotal)
    {
        public static Names From(IModel model)
        {
            var line = model.FindEntityType(typeof(Order))!.FindNavigation(nameof(Order.Items))!.TargetEntityType;
            var mapped = line.GetProperties().Where(p => !p.IsShadowProperty()).Select(p => p.Name).Order().ToArray();
            if (!mapped.SequenceEqual(new[] { nameof(OrderLine.LineTotal), nameof(OrderLine.Name), nameof(OrderLine.Qty), nameof(OrderLine.Sku), nameof(OrderLine.UnitPrice) }.Order()))
            {
                // A line property this writer does not know would be stored as missing.
                throw new InvalidOperationException($"OrderItemsColumn writes five line properties; the model maps {string.Join(", ", mapped)}.");
            }
            string Of(string property) => line.FindProperty(property)!.GetJsonPropertyName()
                ?? throw new InvalidOperationException($"OrderLine.{property} has no JSON name in the model.");
            return new Names(Of(nameof(OrderLine.Sku)), Of(nameof(OrderLine.Name)), Of(nameof(OrderLine.Qty)),
                Of(nameof(OrderLine.UnitPrice)), Of(nameof(OrderLine.LineTotal)));
        }
    }
}
