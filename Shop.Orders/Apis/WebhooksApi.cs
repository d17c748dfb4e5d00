using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Shop.Orders.Data;
using Shop.Orders.Webhooks;

namespace Shop.Orders.Apis;

public sealed record CreateWebhookRequest(string? Url, List<string?>? Events, string? Secret);

public sealed record WebhookResponse(Guid Id, string Url, IReadOnlyList<string> Events, string? Secret, bool IsActive, DateTime CreatedAt)
{
    public static WebhookResponse From(WebhookSubscription s, bool includeSecret) =>
        new(s.Id, s.Url, s.Events, includeSecret ? s.Secret : null, s.IsActive, DateTime.SpecifyKind(s.CreatedAt, DateTimeKind.Utc));
}

public sealed record WebhookDeliveryResponse(long Id, Guid EventId, string EventType, Guid OrderId, string Status, int Attempts,
    int? LastStatusCode, string? LastError, DateTime? NextAttemptAt, DateTime? DeliveredAt, DateTime CreatedAt);

public static class WebhooksApi
{
    public const int MaxUrlLength = 2048;

    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/orders/webhooks").WithTags("Webhooks").RequireAuthorization(ShopAuthentication.AdminPolicy);

        api.MapPost("/", CreateAsync).WithSummary("Subscribe a URL to order events (the secret is shown only in this answer)");
        api.MapGet("/", async (OrdersDbContext db, CancellationToken ct) =>
                (await db.WebhookSubscriptions.AsNoTracking().OrderByDescending(s => s.CreatedAt).ToListAsync(ct))
                    .Select(s => WebhookResponse.From(s, includeSecret: false)).ToList())
            .WithSummary("All subscriptions (no secrets)");
        api.MapDelete("/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, OrdersDbContext db, SecurityAudit audit, ClaimsPrincipal principal, CancellationToken ct) =>
            {
                if (await db.WebhookSubscriptions.Where(s => s.Id == id).ExecuteDeleteAsync(ct) == 0)
                {
                    return NotFound();
                }
                audit.Record("webhook.deleted", principal.GetUserId()?.ToString(), id.ToString());
                return TypedResults.NoContent();
            })
            .WithSummary("Remove a subscription and its delivery log");
        api.MapGet("/{id:guid}/deliveries", DeliveriesAsync).WithSummary("A subscription's delivery log, newest first");
        return api;
    }

    private static async Task<Results<Created<WebhookResponse>, ValidationProblem>> CreateAsync(
        CreateWebhookRequest request, OrdersDbContext db, WebhookTargetPolicy targets, SecurityAudit audit, ClaimsPrincipal principal, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        Uri? uri = null;
        if (string.IsNullOrWhiteSpace(request.Url) || request.Url.Length > MaxUrlLength || request.Url.Any(char.IsControl)
            || !WebhookTargetPolicy.IsWellFormed(request.Url.Trim(), out uri))
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
        if (request.Secret is not null && (request.Secret.Length is < 16 or > 200 || request.Secret.Any(char.IsControl)))
        {
            errors.Add("secret", "Must be 16 to 200 characters, without control characters.");
        }
        if (errors.IsValid && await targets.CheckAsync(uri!, ct) is { } refusal)
        {
            errors.Add("url", refusal);
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var subscription = new WebhookSubscription
        {
            Id = Guid.NewGuid(),
            Url = uri!.ToString(),
            Events = events!.Contains("*") ? ["*"] : events!,
            Secret = request.Secret ?? "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)),
            IsActive = true,
            CreatedAt = DateTime.UtcNow,
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(ct);
        audit.Record("webhook.created", principal.GetUserId()?.ToString(), subscription.Id.ToString(), $"{uri!.Host} for {string.Join(' ', subscription.Events)}");
        return TypedResults.Created($"/orders/webhooks/{subscription.Id}", WebhookResponse.From(subscription, includeSecret: true));
    }

    private static async Task<Results<Ok<Page<WebhookDeliveryResponse>>, ValidationProblem, ProblemHttpResult>> DeliveriesAsync(
        Guid id, int? limit, int? offset, OrdersDbContext db, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var paging = Paging.Parse(limit, offset, errors);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        if (!await db.WebhookSubscriptions.AnyAsync(s => s.Id == id, ct))
        {
            return NotFound();
        }
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == id);
        var total = await query.CountAsync(ct);
        var rows = await query.OrderByDescending(d => d.Id).Skip(paging.Offset).Take(paging.Limit).ToListAsync(ct);
        var items = rows.Select(d => new WebhookDeliveryResponse(d.Id, d.EventId, d.EventType, d.OrderId, d.Status, d.Attempts,
            d.LastStatusCode, d.LastError,
            d.Status == WebhookDeliveryStatus.Pending ? DateTime.SpecifyKind(d.NextAttemptAt, DateTimeKind.Utc) : null,
            d.DeliveredAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null,
            DateTime.SpecifyKind(d.CreatedAt, DateTimeKind.Utc))).ToList();
        return TypedResults.Ok(new Page<WebhookDeliveryResponse>(items, total, paging.Limit, paging.Offset));
    }

    private static ProblemHttpResult NotFound() => TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such webhook.");
}
