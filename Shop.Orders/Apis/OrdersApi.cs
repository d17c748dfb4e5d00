using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Data;
using Shop.Orders.Services;

namespace Shop.Orders.Apis;

public static class OrdersApi
{
    public const int MaxLines = 100;
    public const int MaxQty = 1000;
    public const int MaxIdempotencyKeyLength = 255;

    public static RouteGroupBuilder MapOrdersApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/orders").WithTags("Orders").RequireAuthorization();

        api.MapPost("/", CreateAsync).WithSummary("Place an order (stock is reserved atomically; Idempotency-Key supported)")
            .Produces<OrderResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity) // Idempotency-Key reused, or more units than Orders:MaxUnitsPerOrder
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/", ListAsync).WithSummary("Your orders, newest first (admin: everyone's, filter by user_id)");
        api.MapGet("/{id:guid}", GetAsync).WithSummary("One order (owner or admin)");
        api.MapPatch("/{id:guid}", UpdateAsync).WithSummary("Change status: the owner may cancel, an admin may make any allowed move")
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/{id:guid}/events", EventsAsync).WithSummary("The order's audit trail, oldest first");
        return api;
    }

    private static async Task<IResult> CreateAsync(
        CreateOrderRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ClaimsPrincipal principal, OrderPlacement placement, IdempotencyStore idempotency, IOptions<OrdersOptions> options, OrdersMetrics metrics,
        HttpContext http, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var lines = Validate(request, errors);
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl)))
        {
            errors.Add("Idempotency-Key", $"Must be 1 to {MaxIdempotencyKeyLength} visible characters.");
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        var units = lines.Sum(l => l.Qty);
        if (units > options.Value.MaxUnitsPerOrder)
        {
            metrics.CapRefused("units_per_order");
            return TypedResults.Problem(statusCode: 422, title: "Order too large",
                detail: $"An order may hold at most {options.Value.MaxUnitsPerOrder} units in total; this one has {units}. Lower the quantities or split the order.");
        }
        var userId = principal.GetUserId() ?? throw new InvalidOperationException("Authenticated user without sub.");

        var orderId = Guid.NewGuid();
        if (idempotencyKey is not null)
        {
            var canonical = string.Join(';', lines.Select(l => $"{l.Sku}:{l.Qty}"));
            var claim = await idempotency.ClaimAsync(userId, idempotencyKey, IdempotencyStore.Hash(canonical), ct);
            switch (claim)
            {
                case IdempotencyClaim.Replay replay:
                    return Results.Text(replay.Body, "application/json", statusCode: replay.Status);
                case IdempotencyClaim.Mismatch:
                    return TypedResults.Problem(statusCode: 422, title: "Idempotency-Key reused",
                        detail: "This Idempotency-Key was already used with a different request body.");
                case IdempotencyClaim.StillProcessing:
                    return TypedResults.Problem(statusCode: 409, title: "Request in progress",
                        detail: "A request with this Idempotency-Key is still being processed; retry shortly.");
                case IdempotencyClaim.Claimed claimed:
                    orderId = claimed.OrderId;
                    break;
            }
        }

        PlacementOutcome outcome;
        try
        {
            // Once stock may be reserved, finish the job even if the client hangs up: the outcome is
            // stored for an Idempotency-Key retry instead of being left half-done (timeouts still bound it).
            outcome = await placement.PlaceAsync(orderId, userId, lines, idempotencyKey, CancellationToken.None);
        }
        catch
        {
            if (idempotencyKey is not null)
            {
                await idempotency.ReleaseAsync(userId, idempotencyKey);
            }
            throw;
        }

        if (outcome is PlacementOutcome.Placed placed)
        {
            http.Response.Headers.Location = $"/orders/{placed.Order.Id}";
            return Results.Text(placed.Body, "application/json", statusCode: StatusCodes.Status201Created);
        }
        if (idempotencyKey is not null)
        {
            await idempotency.ReleaseAsync(userId, idempotencyKey);
        }
        return outcome switch
        {
            PlacementOutcome.UserNotAllowed => TypedResults.Problem(statusCode: 403, title: "Account not allowed to order",
                detail: "This account does not exist or is deactivated."),
            PlacementOutcome.TooManyPending cap => TypedResults.Problem(statusCode: 409, title: "Too many pending orders",
                detail: $"This account already has {cap.Cap} pending orders, the most allowed at once. Cancel one you no longer want, " +
                    $"or wait for one to be paid or to expire ({cap.Expiry.TotalMinutes:0} minutes after it was placed), then order again."),
            PlacementOutcome.Rejected rejected => Results.Json(OrderPlacement.ForCaller(rejected.Status, rejected.Problem, principal.IsAdmin()),
                contentType: "application/problem+json", statusCode: rejected.Status),
            _ => throw new InvalidOperationException("Unexpected placement outcome."),
        };
    }

    private static List<(string Sku, int Qty)> Validate(CreateOrderRequest request, ValidationErrors errors)
    {
        var lines = new List<(string, int)>();
        if (request.Items is not { Count: > 0 and <= MaxLines })
        {
            errors.Add("items", $"Between 1 and {MaxLines} lines are required.");
            return lines;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < request.Items.Count; i++)
        {
            var line = request.Items[i];
            if (line is null)
            {
                errors.Add($"items[{i}]", "Must be an object with sku and qty.");
                continue;
            }
            if (string.IsNullOrEmpty(line.Sku) || line.Sku.Length > 64 || !line.Sku.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                errors.Add($"items[{i}].sku", "Must be 1 to 64 characters of letters, digits, '.', '_' or '-'.");
            }
            else if (!seen.Add(line.Sku))
            {
                errors.Add($"items[{i}].sku", "Each sku may appear at most once.");
            }
            if (line.Qty is not (>= 1 and <= MaxQty))
            {
                errors.Add($"items[{i}].qty", $"Must be between 1 and {MaxQty}.");
            }
            if (line.Sku is not null && line.Qty is { } qty)
            {
                lines.Add((line.Sku, qty));
            }
        }
        return lines;
    }

    private static async Task<Results<Ok<Page<OrderResponse>>, ValidationProblem>> ListAsync(
        int? limit, int? offset, string? status, [FromQuery(Name = "user_id")] int? userId,
        ClaimsPrincipal principal, OrdersDbContext db, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var paging = Paging.Parse(limit, offset, errors);
        if (status is not null && !OrderStatus.All.Contains(status))
        {
            errors.Add("status", "Must be one of: " + string.Join(", ", OrderStatus.All) + ".");
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var query = db.Orders.AsNoTracking();
        if (principal.IsAdmin())
        {
            if (userId is { } filter)
            {
                query = query.Where(o => o.UserId == filter);
            }
        }
        else
        {
            var me = principal.GetUserId();
            query = query.Where(o => o.UserId == me);
        }
        if (status is not null)
        {
            query = query.Where(o => o.Status == status);
        }
        return TypedResults.Ok(await query.ToPageAsync(paging,
            orders => orders.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id), OrderResponse.From, ct));
    }

    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetAsync(
        Guid id, ClaimsPrincipal principal, OrderReader reader, CancellationToken ct)
    {
        var order = await reader.GetAsync(id, ct);
        return order is null || !CanSee(principal, order.UserId) ? NotFound() : TypedResults.Ok(order);
    }

    private static async Task<Results<Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateOrderRequest request, ClaimsPrincipal principal, OrderWorkflow workflow)
    {
        if (request.Status is null || !OrderStatus.All.Contains(request.Status))
        {
            return new ValidationErrors().Add("status", "Must be one of: " + string.Join(", ", OrderStatus.All) + ".").ToProblem();
        }
        var actor = principal.GetUserId() ?? throw new InvalidOperationException("Authenticated user without sub.");
        // A status change (and a cancellation's restock) completes even if the client hangs up.
        var outcome = await workflow.ChangeStatusAsync(id, request.Status, actor, principal.IsAdmin(), CancellationToken.None);
        return outcome switch
        {
            StatusChangeOutcome.Changed changed => TypedResults.Ok(changed.Order),
            StatusChangeOutcome.NotFound => NotFound(),
            StatusChangeOutcome.NotAllowed notAllowed => TypedResults.Problem(statusCode: 409, title: "Status change not allowed", detail: notAllowed.Reason),
            _ => throw new InvalidOperationException("Unexpected status change outcome."),
        };
    }

    private static async Task<Results<Ok<List<OrderEventResponse>>, ProblemHttpResult>> EventsAsync(
        Guid id, ClaimsPrincipal principal, OrderReader reader, OrdersDbContext db, CancellationToken ct)
    {
        var order = await reader.GetAsync(id, ct);
        if (order is null || !CanSee(principal, order.UserId))
        {
            return NotFound();
        }
        var events = await db.OrderEvents.AsNoTracking().Where(e => e.OrderId == id)
            .OrderBy(e => e.CreatedAt).ThenBy(e => e.Id).ToListAsync(ct);
        return TypedResults.Ok(events.Select(OrderEventResponse.From).ToList());
    }

    private static bool CanSee(ClaimsPrincipal principal, int ownerId) => principal.IsAdmin() || principal.GetUserId() == ownerId;

    private static ProblemHttpResult NotFound() => ShopProblems.NotFound("No such order.");
}
