using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Shop.Orders.Data;
using Shop.Orders.Services.Webhooks;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Orders;

/// <summary>
/// The webhook payload is a public contract read by other people's code: its JSON may change only by a
/// new version. The checked-in sample is the contract; a change that alters it fails here.
/// </summary>
public sealed class WebhookPayloadContractTests
{
    [Fact]
    public void Order_created_v1_serializes_exactly_as_the_published_sample()
    {
        var payload = JsonSerializer.Serialize(
            OrderWebhookV1.For(Guid.Parse("5d0c6f55-3f0e-4b8a-9c39-0d7c2f1f6a01"), WebhookEventTypes.OrderCreated, At(0), SampleOrder()),
            ProductionJson());

        AssertSameJson(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Orders", "Samples", "order.created.v1.json")), payload);
    }

    internal static Order SampleOrder() => new()
    {
        Id = Guid.Parse("0b9f4a3e-6a51-4c1e-8f0e-2d5b7c9e1a22"),
        UserId = 42,
        Status = OrderStatus.Pending,
        Total = 31.50m,
        Items =
        [
            new OrderLine { Sku = "MUG-01", Name = "Mug", Qty = 2, UnitPrice = 10.25m, LineTotal = 20.50m },
            new OrderLine { Sku = "TEA.green_1", Name = "Green tea", Qty = 1, UnitPrice = 11.00m, LineTotal = 11.00m },
        ],
        // As read back from PostgreSQL: unspecified kind.
        CreatedAt = DateTime.SpecifyKind(At(0), DateTimeKind.Unspecified),
        UpdatedAt = DateTime.SpecifyKind(At(0), DateTimeKind.Unspecified),
        ExpiresAt = DateTime.SpecifyKind(At(30), DateTimeKind.Unspecified),
    };

    private static DateTime At(int minutes) => new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc).AddMinutes(minutes);

    /// <summary>The options the services serialize with (HTTP JSON options plus the Shop's wire format).</summary>
    internal static JsonSerializerOptions ProductionJson()
    {
        var options = new JsonOptions().SerializerOptions;
        ServiceDefaultsExtensions.ConfigureJson(options);
        return options;
    }

    /// <summary>Same property names in the same order, same values (numbers compared as written, so 31.50 ≠ 31.5).</summary>
    internal static void AssertSameJson(string expected, string actual) =>
        Assert.Equal(JsonNode.Parse(expected)!.ToJsonString(), JsonNode.Parse(actual)!.ToJsonString());
}
