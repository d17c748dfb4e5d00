using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Shop.Orders.Services.Clients;

public sealed record ReservationLine(string Sku, string Name, int Qty, decimal UnitPrice);

public sealed record Reservation(Guid OrderId, string Status, List<ReservationLine> Lines);

/// <summary>A refusal from Inventory (400 unknown sku, 409 short stock) passed on to the client as it came.</summary>
public sealed class InventoryRejectedException(int status, JsonElement problem) : Exception("Inventory refused the reservation.")
{
    public int Status { get; } = status;
    public JsonElement Problem { get; } = problem;
}

/// <summary>Calls Inventory's internal reservation API with the service key.</summary>
public sealed class InventoryClient(HttpClient http, IOptions<JsonOptions> json)
{
    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;

    /// <summary>Reserves every line or none. Safe to retry: Inventory keys the reservation by order id.</summary>
    public async Task<Reservation> ReserveAsync(Guid orderId, IEnumerable<(string Sku, int Qty)> lines, CancellationToken ct)
    {
        try
        {
            using var response = await http.PostAsJsonAsync("/internal/reservations/",
                new { OrderId = orderId, Items = lines.Select(l => new { l.Sku, l.Qty }) }, _json, ct);
            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict)
            {
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>(_json, ct);
                throw new InventoryRejectedException((int)response.StatusCode, problem);
            }
            if (!response.IsSuccessStatusCode)
            {
                throw ServiceUnavailableException.FromAnswer("inventory", response);
            }
            return (await response.Content.ReadFromJsonAsync<Reservation>(_json, ct))!;
        }
        catch (Exception e) when (InternalServiceClients.IsUnavailability(e, ct))
        {
            throw new ServiceUnavailableException("inventory", e);
        }
    }

    /// <summary>Returns an order's stock at most once (Inventory remembers); safe to retry.</summary>
    public async Task ReleaseAsync(Guid orderId, CancellationToken ct)
    {
        try
        {
            using var response = await http.PostAsync($"/internal/reservations/{orderId}/release", content: null, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw ServiceUnavailableException.FromAnswer("inventory", response);
            }
        }
        catch (Exception e) when (InternalServiceClients.IsUnavailability(e, ct))
        {
            throw new ServiceUnavailableException("inventory", e);
        }
    }
}

public static class ServiceClients
{
    /// <summary>Inventory's client; Users' (<see cref="UsersAccountClient"/>) comes with the shared authentication.</summary>
    public static IHostApplicationBuilder AddServiceClients(this IHostApplicationBuilder builder)
    {
        // Reservations and releases take the items' row locks, so under a rush on one item they wait in line.
        builder.AddInternalServiceClient<InventoryClient>("inventory", ServiceCallKind.MayQueue);
        return builder;
    }
}
