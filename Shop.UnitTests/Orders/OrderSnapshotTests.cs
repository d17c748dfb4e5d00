using System.Text.Json;
using Shop.Orders.Apis;
using Shop.Orders.Services;

namespace Shop.UnitTests.Orders;

/// <summary>The stored shape of an order (cache value, Idempotency-Key answer) and the REST shape are separate types.</summary>
public sealed class OrderSnapshotTests
{
    /// <summary>
    /// An answer stored with an Idempotency-Key by the version that kept the REST body itself: still readable,
    /// and replayed to the client byte for byte.
    /// </summary>
    private const string StoredByEarlierVersion =
        """{"id":"0b9f4a3e-6a51-4c1e-8f0e-2d5b7c9e1a22","user_id":42,"status":"pending","total":31.50,"items":[{"sku":"MUG-01","name":"Mug","qty":2,"unit_price":10.25,"line_total":20.50},{"sku":"TEA.green_1","name":"Green tea","qty":1,"unit_price":11.00,"line_total":11.00}],"created_at":"2026-03-01T12:00:00.1234567Z","updated_at":"2026-03-01T12:00:00.1234567Z","expires_at":"2026-03-01T12:30:00.1234567Z"}""";

    [Fact]
    public void An_answer_stored_by_the_earlier_version_replays_the_same_bytes()
    {
        var replayed = JsonSerializer.Serialize(OrderResponse.From(OrderSnapshot.Parse(StoredByEarlierVersion)), WebhookPayloadContractTests.ProductionJson());

        Assert.Equal(StoredByEarlierVersion, replayed);
    }

    [Fact]
    public void A_snapshot_round_trips_through_its_stored_json()
    {
        var snapshot = OrderSnapshot.From(WebhookPayloadContractTests.SampleOrder());

        var read = OrderSnapshot.Parse(snapshot.ToJson());

        Assert.Equal(snapshot.ToJson(), read.ToJson());
        Assert.Equal(snapshot.Items, read.Items);
        Assert.Equal(DateTimeKind.Utc, read.CreatedAt.Kind);
    }

    [Fact]
    public void The_first_answer_and_its_replay_render_the_same_bytes()
    {
        var json = WebhookPayloadContractTests.ProductionJson();
        var snapshot = OrderSnapshot.From(WebhookPayloadContractTests.SampleOrder());

        var first = JsonSerializer.Serialize(OrderResponse.From(snapshot), json);
        var replay = JsonSerializer.Serialize(OrderResponse.From(OrderSnapshot.Parse(snapshot.ToJson())), json);

        Assert.Equal(first, replay);
    }
}
