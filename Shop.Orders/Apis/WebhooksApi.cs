using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Orders.Data;
using Shop.Orders.Services.Webhooks;

namespace Shop.Orders.Apis;

/// <param name="Secret">Optional: a secret the subscriber already shares (checked by <see cref="WebhookSecrets.CheckChosen"/>); generated when absent.</param>
public sealed record CreateWebhookRequest(string? Url, List<string?>? Events, string? Secret);

/// <param name="Secret">Only in the answers that create it (create, rotate-secret); never stored in plaintext.</param>
/// <param name="PausedUntil">
/// Set while the subscriber is treated as down (its last attempts got no answer, or 429/502/503/504): its
/// deliveries wait, and one goes out as a probe at this time (in the past while that probe is on its way). Null
/// once an attempt gets an answer. Added within v1 of the API (an answer may carry fields a client does not know).
/// </param>
public sealed record WebhookResponse(Guid Id, string Url, IReadOnlyList<string> Events, string? Secret, bool IsActive, DateTime CreatedAt,
    DateTime? PreviousSecretExpiresAt, DateTime? PausedUntil)
{
    public static WebhookResponse From(WebhookSubscription s, string? secret = null) =>
        new(s.Id, s.Url, s.Events, secret, s.IsActive, DateTime.SpecifyKind(s.CreatedAt, DateTimeKind.Utc),
            s.PreviousSecretExpiresAt is { } until && until > DateTime.UtcNow ? DateTime.SpecifyKind(until, DateTimeKind.Utc) : null,
            s.PausedUntil is { } paused ? DateTime.SpecifyKind(paused, DateTimeKind.Utc) : null);
}

public sealed record WebhookDeliveryResponse(long Id, Guid EventId, string EventType, Guid OrderId, string Status, int Attempts,
    int? LastStatusCode, string? LastError, DateTime? NextAttemptAt, DateTime? DeliveredAt, DateTime CreatedAt)
{
    public static WebhookDeliveryResponse From(WebhookDelivery d) => new(d.Id, d.EventId, d.EventType, d.OrderId, d.Status, d.Attempts,
        d.LastStatusCode, d.LastError,
        d.Status == WebhookDeliveryStatus.Pending ? DateTime.SpecifyKind(d.NextAttemptAt, DateTimeKind.Utc) : null,
        d.DeliveredAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null,
        DateTime.SpecifyKind(d.CreatedAt, DateTimeKind.Utc));
}

public static class WebhooksApi
{
    public const int MaxUrlLength = 2048;

    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/orders/webhooks").WithTags("Webhooks").RequireAuthorization(ShopAuthentication.AdminPolicy);

        api.MapPost("/", CreateAsync).WithSummary("Subscribe a URL to order events (the secret is shown only in this answer)");
        api.MapGet("/", ListAsync).WithSummary("The subscriptions, newest first, paged (no secrets)");
        api.MapDelete("/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, WebhookSubscriptions subscriptions, ClaimsPrincipal principal, CancellationToken ct) =>
                await subscriptions.DeleteAsync(id, principal.GetUserId(), ct) ? TypedResults.NoContent() : NotFound())
            .WithSummary("Remove a subscription and its delivery log");
        api.MapPost("/{id:guid}/rotate-secret", RotateSecretAsync)
            .WithSummary("Replace the signing secret (shown only in this answer); the previous one keeps signing for a grace period");
        api.MapGet("/{id:guid}/deliveries", DeliveriesAsync).WithSummary("A subscription's delivery log, newest first");
        return api;
    }

    private static async Task<Results<Created<WebhookResponse>, ValidationProblem>> CreateAsync(
        CreateWebhookRequest request, WebhookTargetPolicy targets, WebhookSubscriptions subscriptions, ClaimsPrincipal principal, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        Uri? uri = null;
        // The length is the stored form's (Uri.ToString(), which can be longer than what was sent: "https://host?q"
        // gains a "/"); the column holds MaxUrlLength, and an overflow there would be a 500.
        if (string.IsNullOrWhiteSpace(request.Url) || request.Url.Length > MaxUrlLength || request.Url.Any(char.IsControl)
            || !WebhookTargetPolicy.IsWellFormed(request.Url.Trim(), out uri) || uri.ToString().Length > MaxUrlLength)
        {
            errors.Add("url", $"Must be an absolute http or https URL of at most {MaxUrlLength} characters.");
        }
        var events = request.Events?.Where(e => e is not null).Select(e => e!).Distinct().ToList();
        if (events is not { Count: > 0 })
        {
            errors.Add("events", "At least one event is required: order.created, order.status_changed or *.");
        }
        else if (events.Any(e => e != "*" && !WebhookEventTypes.All.Contains(e)))
        {
            errors.Add("events", "Allowed: order.created, order.status_changed, or [\"*\"].");
        }
        if (request.Secret is not null && WebhookSecrets.CheckChosen(request.Secret) is { } weak)
        {
            errors.Add("secret", weak);
        }
        if (errors.IsValid && await targets.CheckAsync(uri!, ct) is { } refusal)
        {
            errors.Add("url", refusal);
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var (subscription, secret) = await subscriptions.CreateAsync(uri!, events!, request.Secret, principal.GetUserId(), ct);
        return TypedResults.Created($"/orders/webhooks/{subscription.Id}", WebhookResponse.From(subscription, secret));
    }

    private static async Task<Results<Ok<Page<WebhookResponse>>, ValidationProblem>> ListAsync(
        int? limit, int? offset, WebhookSubscriptions subscriptions, CancellationToken ct)
    {
        if (!Paging.TryParse(limit, offset, out var paging, out var problem))
        {
            return problem;
        }
        return TypedResults.Ok(await subscriptions.ListAsync(paging, s => WebhookResponse.From(s), ct));
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> RotateSecretAsync(
        Guid id, WebhookSubscriptions subscriptions, ClaimsPrincipal principal, CancellationToken ct) =>
        await subscriptions.RotateSecretAsync(id, principal.GetUserId(), ct) is { } rotated
            ? TypedResults.Ok(WebhookResponse.From(rotated.Subscription, rotated.Secret))
            : NotFound();

    private static async Task<Results<Ok<Page<WebhookDeliveryResponse>>, ValidationProblem, ProblemHttpResult>> DeliveriesAsync(
        Guid id, int? limit, int? offset, WebhookSubscriptions subscriptions, CancellationToken ct)
    {
        if (!Paging.TryParse(limit, offset, out var paging, out var problem))
        {
            return problem;
        }
        if (await subscriptions.DeliveriesAsync(id, paging, ct) is not { } page)
        {
            return NotFound();
        }
        return TypedResults.Ok(new Page<WebhookDeliveryResponse>([.. page.Items.Select(WebhookDeliveryResponse.From)], page.Total, page.Limit, page.Offset));
    }

    private static ProblemHttpResult NotFound() => ShopProblems.NotFound("No such webhook.");
}
