using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Inventory.Services;

namespace Shop.Inventory.Apis;

/// <summary>
/// Stock reservation for Orders. Outside the <c>/inventory</c> prefix (the gateway never routes it)
/// and only with the service key: a user's token, even an admin's, cannot take or return stock.
/// </summary>
public static class InternalReservationsApi
{
    public static RouteGroupBuilder MapInternalReservationsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/internal/reservations")
            .RequireServiceCallers("orders")
            .ExcludeFromDescription();

        api.MapPost("/", ReserveAsync);
        api.MapPost("/{orderId:guid}/release", async (Guid orderId, StockReservations reservations, CancellationToken ct) =>
            TypedResults.Ok(new ReleaseResponse(orderId, await reservations.ReleaseAsync(orderId, ct))));
        api.MapGet("/{orderId:guid}", async Task<Results<Ok<ReservationResponse>, NotFound>> (Guid orderId, StockReservations reservations, CancellationToken ct) =>
            await reservations.FindAsync(orderId, ct) is { } found ? TypedResults.Ok(ReservationResponse.From(found)) : TypedResults.NotFound());
        api.MapGet("/totals", async (StockReservations reservations, CancellationToken ct) =>
            TypedResults.Ok(await reservations.HeldTotalsAsync(ct)));
        return api;
    }

    private static async Task<Results<Ok<ReservationResponse>, ValidationProblem, ProblemHttpResult>> ReserveAsync(
        ReserveRequest request, StockReservations reservations, CancellationToken ct)
    {
        var errors = ItemValidation.Reserve(request);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var outcome = await reservations.ReserveAsync(request.OrderId!.Value, [.. request.Items!.Select(l => (l.Sku!, l.Qty!.Value))], ct);
        return outcome switch
        {
            ReserveOutcome.Reserved r => TypedResults.Ok(ReservationResponse.From(r.Reservation)),
            ReserveOutcome.Short s => TypedResults.Problem(statusCode: 409, title: "Insufficient stock",
                detail: "Not enough stock for: " + string.Join(", ", s.Shortages.Select(x => $"{x.Sku} (requested {x.Requested}, available {x.Available})")),
                extensions: new Dictionary<string, object?> { ["shortages"] = s.Shortages.Select(StockShortage.From).ToList() }),
            ReserveOutcome.UnknownSkus u => new ValidationErrors().Add("items", "Unknown sku: " + string.Join(", ", u.Skus)).ToProblem(),
            ReserveOutcome.AlreadyReleased => TypedResults.Problem(statusCode: 409, title: "Reservation released",
                detail: "This order's reservation was already released."),
            _ => throw new InvalidOperationException("Unexpected reservation outcome."),
        };
    }
}
