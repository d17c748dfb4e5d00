using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
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
        ClaimsPrincipal principal, OrderPlacement placement, IOptions<HttpJsonOptions> json, HttpContext http, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var lines = Validate(request, errors);
        ValidateIdempotencyKey(idempotencyKey, errors);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        var userId = principal.GetUserId() ?? throw new InvalidOperationException("Authenticated user without sub.");
        // Authentication refused any token without a current stamp (SecurityStamps), so this parses.
        var stamp = int.Parse(principal.FindFirstValue(SecurityStamps.StampClaim)!, System.Globalization.CultureInfo.InvariantCulture);

        var outcome = await placement.PlaceAsync(userId, stamp, lines, idempotencyKey, ct);
        switch (outcome)
        {
            case PlacementOutcome.Placed placed:
                http.Response.Headers.Location = $"/orders/{placed.Order.Id}";
                return OrderJson(placed.Order, StatusCodes.Status201Created, json.Value);
            case PlacementOutcome.Replayed replayed:
                return OrderJson(replayed.Order, replayed.Status, json.Value);
            case PlacementOutcome.StillProcessing:
                // Not a final answer: the same request again will get the first one's outcome. Retry-After says
                // so to a client, which must then keep its key (a new key could place a second order).
                http.Response.Headers.RetryAfter = "1";
                break;
        }
        return outcome switch
        {
            PlacementOutcome.TooManyUnits units => TypedResults.Problem(statusCode: 422, title: "Order too large",
                detail: $"An order may hold at most {units.Max} units in total; this one has {units.Units}. Lower the quantities or split the order."),
            PlacementOutcome.IdempotencyKeyReused => TypedResults.Problem(statusCode: 422, title: "Idempotency-Key reused",
                detail: "This Idempotency-Key was already used with a different request body."),
            PlacementOutcome.StillProcessing => TypedResults.Problem(statusCode: 409, title: "Request in progress",
                detail: "A request with this Idempotency-Key is still being processed. Send the same request with the same key again shortly to get its outcome; a new key could place a second order."),
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

    /// <summary>A placed (or replayed) order as text, so the first answer and every replay of it are rendered alike.</summary>
    private static IResult OrderJson(OrderSnapshot order, int status, HttpJsonOptions json) =>
        Results.Text(JsonSerializer.Serialize(OrderResponse.From(order), json.SerializerOptions), "application/json", statusCode: status);

    internal static void ValidateIdempotencyKey(string? idempotencyKey, ValidationErrors errors)
    {
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl)))
        {
            errors.Add("Idempotency-Key", $"Must be 1 to {MaxIdempotencyKeyLength} visible characters.");
        }
    }

    internal static List<(string Sku, int Qty)> Validate(CreateOrderRequest request, ValidationErrors errors)
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
        ClaimsPrincipal principal, OrderReader reader, CancellationToken ct)
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

        // Admins see everyone's orders (or one user's); anyone else only their own.
        var owner = principal.IsAdmin() ? userId : principal.GetUserId() ?? throw new InvalidOperationException("Authenticated user without sub.");
        var page = await reader.ListAsync(paging, owner, status, ct);
        return TypedResults.Ok(new Page<OrderResponse>([.. page.Items.Select(OrderResponse.From)], page.Total, page.Limit, page.Offset));
    }

    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetAsync(
        Guid id, ClaimsPrincipal principal, OrderReader reader, CancellationToken ct)
    {
        var order = await reader.GetAsync(id, ct);
        return order is null || !CanSee(principal, order.UserId) ? NotFound() : TypedResults.Ok(OrderResponse.From(order));
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
            StatusChangeOutcome.Changed changed => TypedResults.Ok(OrderResponse.From(changed.Order)),
            StatusChangeOutcome.NotFound => NotFound(),
            StatusChangeOutcome.NotAllowed notAllowed => TypedResults.Problem(statusCode: 409, title: "Status change not allowed", detail: notAllowed.Reason),
            _ => throw new InvalidOperationException("Unexpected status change outcome."),
        };
    }

    private static async Task<Results<Ok<List<OrderEventResponse>>, ProblemHttpResult>> EventsAsync(
        Guid id, ClaimsPrincipal principal, OrderReader reader, CancellationToken ct)
    {
        var order = await reader.GetAsync(id, ct);
        if (order is null || !CanSee(principal, order.UserId))
        {
            return NotFound();
        }
        return TypedResults.Ok((await reader.EventsAsync(id, ct)).Select(OrderEventResponse.From).ToList());
    }

    private static bool CanSee(ClaimsPrincipal principal, int ownerId) => principal.IsAdmin() || principal.GetUserId() == ownerId;

    private static ProblemHttpResult NotFound() => ShopProblems.NotFound("No such order.");
}
