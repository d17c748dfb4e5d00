using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Shop.Inventory.Data;
using Shop.Inventory.Services;

namespace Shop.Inventory.Apis;

/// <summary>
/// Stock reservation for Orders. Outside the <c>/inventory</c> prefix (the gateway never routes it)
/// and only with the service key: a user's token, even an admin's, cannot take or return stock.
/// </summary>
public static class InternalReservationsApi
{
    public const int MaxLines = 100;
    public const int MaxQty = 1000;

    public static RouteGroupBuilder MapInternalReservationsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/internal/reservations")
            .RequireServiceCallers("orders")
            .ExcludeFromDescription();

        api.MapPost("/", ReserveAsync);
        api.MapPost("/{orderId:guid}/release", async (Guid orderId, StockReservations reservations, CancellationToken ct) =>
            TypedResults.Ok(new ReleaseResponse(orderId, await reservations.ReleaseAsync(orderId, ct))));
        api.MapGet("/{orderId:guid}", async Task<Results<Ok<ReservationResponse>, NotFound>> (Guid orderId, StockReservations reservations, CancellationToken ct) =>
            await reservations.FindAsync(orderId, ct) is { } found ? TypedResults.Ok(found) : TypedResults.NotFound());
        // Σ quantity held by active reservations per sku: what the invariant checks reconcile against.
        api.MapGet("/totals", async (InventoryDbContext db, CancellationToken ct) =>
            TypedResults.Ok(await db.ReservationLines.AsNoTracking()
                .Where(l => db.Reservations.Any(r => r.OrderId == l.OrderId && r.Status == ReservationStatus.Reserved))
                .GroupBy(l => l.Sku)
                .Select(g => new { Sku = g.Key, Qty = g.Sum(l => l.Qty) })
                .ToDictionaryAsync(x => x.Sku, x => x.Qty, ct)));
        return api;
    }

    private static async Task<Results<Ok<ReservationResponse>, ValidationProblem, ProblemHttpResult>> ReserveAsync(
        ReserveRequest request, StockReservations reservations, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (request.OrderId is null || request.OrderId == Guid.Empty)
        {
            errors.Add("order_id", "This field is required.");
        }
        if (request.Items is not { Count: > 0 and <= MaxLines })
        {
            errors.Add("items", $"Between 1 and {MaxLines} lines are required.");
        }
        else
        {
            for (var i = 0; i < request.Items.Count; i++)
            {
                ItemValidation.Sku(errors, request.Items[i].Sku, $"items[{i}].sku");
                if (request.Items[i].Qty is not (>= 1 and <= MaxQty))
                {
                    errors.Add($"items[{i}].qty", $"Must be between 1 and {MaxQty}.");
                }
            }
            if (request.Items.Select(l => l.Sku).Distinct(StringComparer.Ordinal).Count() != request.Items.Count)
            {
                errors.Add("items", "Each sku may appear at most once.");
            }
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var outcome = await reservations.ReserveAsync(request.OrderId!.Value, [.. request.Items!.Select(l => (l.Sku!, l.Qty!.Value))], ct);
        return outcome switch
        {
            ReserveOutcome.Reserved r => TypedResults.Ok(r.Reservation),
            ReserveOutcome.Short s => TypedResults.Problem(statusCode: 409, title: "Insufficient stock",
                detail: "Not enough stock for: " + string.Join(", ", s.Shortages.Select(x => $"{x.Sku} (requested {x.Requested}, available {x.Available})")),
                extensions: new Dictionary<string, object?> { ["shortages"] = s.Shortages }),
            ReserveOutcome.UnknownSkus u => new ValidationErrors().Add("items", "Unknown sku: " + string.Join(", ", u.Skus)).ToProblem(),
            ReserveOutcome.AlreadyReleased => TypedResults.Problem(statusCode: 409, title: "Reservation released",
                detail: "This order's reservation was already released."),
            _ => throw new InvalidOperationException("Unexpected reservation outcome."),
        };
    }
}
