using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Shop.Inventory.Data;
using Shop.Inventory.Services;

namespace Shop.Inventory.Apis;

public static class InventoryApi
{
    public static RouteGroupBuilder MapInventoryApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/inventory").WithTags("Inventory").RequireAuthorization();

        api.MapGet("/", ListAsync).WithSummary("Catalogue: search by sku or name, hide sold-out items, paged");
        api.MapGet("/{sku}", GetAsync).WithSummary("One item by sku");
        api.MapPost("/", CreateAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("Add an item (admin)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPatch("/{sku}", UpdateAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("Change name, price or stock (admin)");
        api.MapPost("/{sku}/adjust", AdjustAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("Add or remove stock atomically (admin)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{sku}", DeleteAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("Remove an item (admin)");
        return api;
    }

    private static async Task<Results<Ok<Page<ItemResponse>>, ValidationProblem>> ListAsync(
        string? q, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "in_stock")] bool? inStock, int? limit, int? offset, InventoryDbContext db, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var paging = Paging.Parse(limit, offset, errors);
        if (q is { Length: > 100 })
        {
            errors.Add("q", "Must be at most 100 characters.");
        }
        errors.RejectControlCharacters("q", q);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var query = db.Items.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            // ILIKE with the wildcards in the search text escaped: a search is never a pattern.
            var pattern = "%" + EscapeLike(q.Trim()) + "%";
            query = query.Where(i => EF.Functions.ILike(i.Sku, pattern, "\\") || EF.Functions.ILike(i.Name, pattern, "\\"));
        }
        if (inStock == true)
        {
            query = query.Where(i => i.Qty > 0);
        }
        return TypedResults.Ok(await query.ToPageAsync(paging,
            items => items.OrderBy(i => i.Name).ThenBy(i => i.Sku), ItemResponse.From, ct));
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private static async Task<Results<Ok<ItemResponse>, ProblemHttpResult>> GetAsync(string sku, ItemReader reader, CancellationToken ct)
    {
        var item = await reader.GetAsync(sku, ct);
        return item is null ? NotFound(sku) : TypedResults.Ok(item);
    }

    private static async Task<Results<Created<ItemResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateItemRequest request, InventoryDbContext db, ItemReader reader, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        ItemValidation.Sku(errors, request.Sku);
        errors.RequireString("name", request.Name, ItemValidation.NameMax);
        if (request.Price is null)
        {
            errors.Add("price", "This field is required.");
        }
        ItemValidation.Price(errors, request.Price);
        ItemValidation.Qty(errors, request.Qty);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var now = DateTime.UtcNow;
        var item = new InventoryItem { Sku = request.Sku!, Name = request.Name!.Trim(), Price = request.Price!.Value, Qty = request.Qty ?? 0, CreatedAt = now, UpdatedAt = now };
        db.Items.Add(item);
        if (!await db.TrySaveUniqueAsync(ct))
        {
            return TypedResults.Problem(statusCode: 409, title: "SKU already exists", detail: $"An item with sku '{request.Sku}' already exists.");
        }
        await reader.InvalidateAsync(item.Sku);
        return TypedResults.Created($"/inventory/{Uri.EscapeDataString(item.Sku)}", ItemResponse.From(item));
    }

    private static async Task<Results<Ok<ItemResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string sku, UpdateItemRequest request, InventoryDbContext db, ItemReader reader, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (request.Name is not null)
        {
            errors.RequireString("name", request.Name, ItemValidation.NameMax);
        }
        ItemValidation.Price(errors, request.Price);
        ItemValidation.Qty(errors, request.Qty);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var item = await db.Items.FirstOrDefaultAsync(i => i.Sku == sku, ct);
        if (item is null)
        {
            return NotFound(sku);
        }
        if (request.Name is not null) item.Name = request.Name.Trim();
        if (request.Price is { } price) item.Price = price;
        if (request.Qty is { } qty) item.Qty = qty;
        item.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        await reader.InvalidateAsync(sku);
        return TypedResults.Ok(ItemResponse.From(item));
    }

    private static async Task<Results<Ok<ItemResponse>, ValidationProblem, ProblemHttpResult>> AdjustAsync(
        string sku, AdjustRequest request, InventoryDbContext db, ItemReader reader, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (request.Delta is null)
        {
            errors.Add("delta", "This field is required.");
        }
        else if (request.Delta is < -ItemValidation.QtyMax or > ItemValidation.QtyMax)
        {
            errors.Add("delta", $"Must be between -{ItemValidation.QtyMax} and {ItemValidation.QtyMax}.");
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var delta = request.Delta!.Value;
        // One atomic statement: the stock check and the change cannot be split by another writer.
        var updated = await db.Items
            .FromSql($"""
                UPDATE inventory SET qty = qty + {delta}, updated_at = now()
                WHERE sku = {sku} AND qty + {delta} >= 0 AND qty + {delta} <= {ItemValidation.QtyMax}
                RETURNING *
                """)
            .AsNoTracking().ToListAsync(ct);
        if (updated.Count == 0)
        {
            var exists = await db.Items.AnyAsync(i => i.Sku == sku, ct);
            return exists
                ? TypedResults.Problem(statusCode: 409, title: "Insufficient stock", detail: "The adjustment would take stock below zero; nothing was changed.")
                : NotFound(sku);
        }
        await reader.InvalidateAsync(sku);
        return TypedResults.Ok(ItemResponse.From(updated[0]));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string sku, InventoryDbContext db, ItemReader reader, CancellationToken ct)
    {
        var deleted = await db.Items.Where(i => i.Sku == sku).ExecuteDeleteAsync(ct);
        if (deleted == 0)
        {
            return NotFound(sku);
        }
        await reader.InvalidateAsync(sku);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string sku) =>
        ShopProblems.NotFound($"No item with sku '{sku}'.");
}
