using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Services.Clients;
using Shop.Orders.Data;
using Shop.Orders.Services.Webhooks;

namespace Shop.Orders.Services;

public abstract record PlacementOutcome
{
    public sealed record Placed(OrderSnapshot Order) : PlacementOutcome;
    /// <summary>The Idempotency-Key was used before with the same lines: that request's answer.</summary>
    public sealed record Replayed(int Status, OrderSnapshot Order) : PlacementOutcome;
    public sealed record IdempotencyKeyReused : PlacementOutcome;
    public sealed record StillProcessing : PlacementOutcome;
    public sealed record TooManyUnits(int Max, int Units) : PlacementOutcome;
    public sealed record UserNotAllowed : PlacementOutcome;
    public sealed record Rejected(int Status, JsonElement Problem) : PlacementOutcome;
    public sealed record TooManyPending(int Cap, TimeSpan Expiry) : PlacementOutcome;
}

/// <summary>
/// Places an order across three services without losing stock. A release guard is stored before
/// Inventory is asked; the transaction that stores the order, its <c>created</c> event and its
/// webhook outbox rows also deletes the guard. Anything that fails after the reservation releases
/// it at once, and if even that fails the guard lets <see cref="StockReleaseWorker"/> release it
/// later. The end state is "order stored and stock deducted" or neither.
/// </summary>
public sealed class OrderPlacement(
    OrdersDbContext db, UsersAccountClient users, ActiveAccounts accounts, InventoryClient inventory, WebhookOutbox outbox,
    IdempotencyStore idempotency, StockReleases releases, IOptions<JsonOptions> json, IOptions<OrdersOptions> options, OrdersMetrics metrics)
{
    private readonly OrdersOptions _options = options.Value;

    /// <summary>
    /// Places the order once per Idempotency-Key (when given): a repeat gets the first answer, a repeat with
    /// other lines is refused. <paramref name="ct"/> bounds only the wait for the key: once stock may be
    /// reserved the job is finished even if the client hangs up, so its outcome is stored for a retry
    /// instead of being left half-done (timeouts still bound it).
    /// </summary>
    /// <param name="stamp">The security stamp of the caller's token, which authentication found current.</param>
    public async Task<PlacementOutcome> PlaceAsync(int userId, int stamp, IReadOnlyList<(string Sku, int Qty)> lines, string? idempotencyKey, CancellationToken ct)
    {
        var units = lines.Sum(l => l.Qty);
        if (units > _options.MaxUnitsPerOrder)
        {
            metrics.CapRefused("units_per_order");
            return new PlacementOutcome.TooManyUnits(_options.MaxUnitsPerOrder, units);
        }

        // Before the key is claimed: a refusal here leaves no claim to release and no guard to delete.
        if (!await accounts.IsActiveAsync(userId, stamp, users, ct))
        {
            return new PlacementOutcome.UserNotAllowed();
        }

        var orderId = Guid.NewGuid();
        var guardWritten = false;
        if (idempotencyKey is not null)
        {
            switch (await idempotency.ClaimAsync(userId, idempotencyKey, IdempotencyStore.RequestHash(lines), StockReleases.GuardDueAt(), ct))
            {
                case IdempotencyClaim.Replay replay:
                    return new PlacementOutcome.Replayed(replay.Status, replay.Order);
                case IdempotencyClaim.Mismatch:
                    return new PlacementOutcome.IdempotencyKeyReused();
                case IdempotencyClaim.StillProcessing:
                    return new PlacementOutcome.StillProcessing();
                case IdempotencyClaim.Claimed claimed:
                    (orderId, guardWritten) = (claimed.OrderId, claimed.GuardWritten);
                    break;
            }
        }

        PlacementOutcome outcome;
        try
        {
            // Not the request's token: once claimed, a placement runs to its end even if the client leaves (a retry
            // with the key gets its answer), so a reservation is never cut off between Inventory and the store.
            outcome = await ReserveAndStoreAsync(orderId, userId, lines, idempotencyKey, guardWritten, CancellationToken.None);
        }
        catch
        {
            if (idempotencyKey is not null)
            {
                await idempotency.ReleaseAsync(userId, idempotencyKey);
            }
            throw;
        }
        if (outcome is not PlacementOutcome.Placed && idempotencyKey is not null)
        {
            // Nothing was stored: the client may retry with the same key.
            await idempotency.ReleaseAsync(userId, idempotencyKey);
        }
        return outcome;
    }

    private async Task<PlacementOutcome> ReserveAndStoreAsync(
        Guid orderId, int userId, IReadOnlyList<(string Sku, int Qty)> lines, string? idempotencyKey, bool guardWritten, CancellationToken ct)
    {
        // The pending-orders cap is not checked here: the database refuses the order that would pass it when
        // it is stored (see StoreAsync), and a hoarder at the cap is held back by the gateway's order bucket,
        // so reading the count first would cost every placement a query to spare a refused one a reservation.
        if (!guardWritten)
        {
            await releases.AddGuardAsync(orderId, ct);
        }

        Reservation reservation;
        try
        {
            reservation = await inventory.ReserveAsync(orderId, lines, ct);
        }
        catch (InventoryRejectedException rejected)
        {
            // Nothing was reserved (all or nothing); the guard has nothing to protect.
            await releases.DeleteAsync(orderId);
            return new PlacementOutcome.Rejected(rejected.Status, rejected.Problem);
        }
        catch (ServiceUnavailableException)
        {
            // A timed-out reservation may still have happened. Inventory is not answering now, so
            // do not make the client wait for a release too: make the guard due at once and let
            // the worker give the stock back as soon as Inventory is reachable.
            await releases.ExpediteAsync(orderId);
            throw;
        }

        var total = reservation.Lines.Sum(l => l.UnitPrice * l.Qty);
        if (total > MaxTotal)
        {
            await releases.TryReleaseNowAsync(orderId);
            return new PlacementOutcome.Rejected(StatusCodes.Status400BadRequest, TotalTooLargeProblem());
        }

        PlacementOutcome stored;
        try
        {
            stored = await StoreAsync(orderId, userId, reservation, idempotencyKey, ct);
        }
        catch
        {
            await releases.TryReleaseNowAsync(orderId);
            throw;
        }
        if (stored is PlacementOutcome.TooManyPending)
        {
            await releases.TryReleaseNowAsync(orderId);
        }
        return stored;
    }

    /// <summary>The session setting the pending-count trigger reads the cap from (migration PendingOrderCapInDatabase); Program.cs sets it on every connection.</summary>
    public const string PendingCapSetting = "shop.max_pending_orders_per_user";

    /// <summary>The constraint name the trigger raises when an order would take its user past the cap.</summary>
    public const string PendingCapConstraint = "pending_orders_cap";

    private PlacementOutcome.TooManyPending TooManyPending()
    {
        metrics.CapRefused("pending_orders");
        return new PlacementOutcome.TooManyPending(_options.MaxPendingOrdersPerUser, _options.PendingExpiry);
    }

    /// <summary>
    /// Inventory's short-stock problem as the caller may see it: admins get it whole; shoppers learn which
    /// skus are short and what they asked for, never how many are left (that would let anyone read the
    /// stock level of every product, and time a hoarding run to it).
    /// </summary>
    public static JsonElement ForCaller(int status, JsonElement problem, bool callerIsAdmin)
    {
        if (callerIsAdmin || status != StatusCodes.Status409Conflict || !problem.TryGetProperty("shortages", out var shortages)
            || shortages.ValueKind != JsonValueKind.Array)
        {
            return problem;
        }
        var node = JsonNode.Parse(problem.GetRawText())!.AsObject();
        var lines = new JsonArray();
        var skus = new List<string>();
        foreach (var shortage in shortages.EnumerateArray())
        {
            var sku = shortage.GetProperty("sku").GetString()!;
            skus.Add(sku);
            lines.Add(new JsonObject { ["sku"] = sku, ["requested"] = shortage.GetProperty("requested").GetInt32() });
        }
        node["detail"] = $"Not enough stock for: {string.Join(", ", skus)}. Order fewer of these, or leave them out, and try again.";
        node["shortages"] = lines;
        return JsonSerializer.SerializeToElement(node);
    }

    /// <summary>The largest total <c>numeric(12,2)</c> holds.</summary>
    public const decimal MaxTotal = 9_999_999_999.99m;

    private JsonElement TotalTooLargeProblem() => JsonSerializer.SerializeToElement(new Dictionary<string, object>
    {
        ["type"] = "https://httpstatuses.io/400",
        ["title"] = "One or more fields are invalid.",
        ["status"] = 400,
        ["detail"] = "The order total would exceed 9,999,999,999.99.",
        ["errors"] = new Dictionary<string, string[]> { ["items"] = ["The order total is too large; split the order."] },
    }, json.Value.SerializerOptions);

    private async Task<PlacementOutcome> StoreAsync(Guid orderId, int userId, Reservation reservation, string? idempotencyKey, CancellationToken ct)
    {
        var now = DatabaseTime.UtcNow;
        var order = new Order
        {
            Id = orderId,
            UserId = userId,
            Status = OrderStatus.Pending,
            Items = [.. reservation.Lines.Select(l => new OrderLine { Sku = l.Sku, Name = l.Name, Qty = l.Qty, UnitPrice = l.UnitPrice, LineTotal = l.UnitPrice * l.Qty })],
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = DatabaseTime.ToMicroseconds(now + _options.PendingExpiry),
        };
        order.Total = order.Items.Sum(i => i.LineTotal);

        var snapshot = OrderSnapshot.From(order);
        var created = outbox.NewEvent(WebhookEventTypes.OrderCreated, order, now);
        var items = OrderItemsColumn.ToJson(db.Model, order.Items);
        var description = $"Order placed: {order.Items.Count} line(s), total {order.Total:0.00}";
        var answer = idempotencyKey is null ? null : snapshot.ToJson();
        int? answerStatus = idempotencyKey is null ? null : StatusCodes.Status201Created;
        List<int> outboxRows = [];
        // One statement, one implicit transaction (Data/Migrations/…OrderStoredInOneStatement, as changed by
        // …ReleaseGuardDeletedByKey): the guard's deletion (refused if the worker already gave the stock back),
        // the order, its event, its outbox rows and the Idempotency-Key's answer. The order's insert bumps the
        // user's pending count under its row lock (a trigger) and fails past the cap, so one user's concurrent
        // placements queue there and no two can both squeeze under it.
        // Not run again on a broken connection (a second run would store a second order or fail on the first's id), and
        // it need not be: it is never a placement's first statement, which is the Idempotency-Key claim or the release guard
        // (both rerunnable, and a run again empties the pool of the restart's dead connections). It meets a dead one only when
        // the database restarted during this placement's reservation: a 503 with the stock given back at once, no order.
        var stored = await db.Database.TryStatementAsync(PendingCapConstraint, async () => outboxRows = await db.Database.SqlQuery<int>($"""
            SELECT store_order({orderId}, {userId}, {order.Status}, {order.Total}, {items}::jsonb, {now}, {order.ExpiresAt},
                {OrderEventTypes.Created}, {description}, {created.Type}, {created.Id}, {created.Payload},
                {idempotencyKey}, {answerStatus}, {answer}) AS "Value"
            """).ToListAsync(ct));
        if (!stored)
        {
            return TooManyPending();
        }
        outbox.Written(outboxRows[0]);
        outbox.AnnounceCommitted();
        return new PlacementOutcome.Placed(snapshot);
    }
}
