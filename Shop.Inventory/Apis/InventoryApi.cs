using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Inventory.Services;

namespace Shop.Inventory.Apis;

/// <summary>The catalogue: anyone signed in reads it; admins change it through <see cref="CatalogueChanges"/>.</summary>
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
        string? q, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "in_stock")] bool? inStock, int? limit, int? offset, ItemReader reader, CancellationToken ct)
    {
        var errors = ItemValidation.Search(q, limit, offset, out var paging);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(await reader.SearchAsync(q, inStock == true, paging, ItemResponse.From, ct));
    }

    // A sku no item can have is not looked up: the cache keeps other keys beside an item's (its generation,
    // "…:gen"), and a colon in the path would read one of those as an item.
    private static async Task<Results<Ok<ItemResponse>, ProblemHttpResult>> GetAsync(string sku, ItemReader reader, CancellationToken ct) =>
        ItemValidation.SkuPattern().IsMatch(sku) && await reader.GetAsync(sku, ct) is { } item ? TypedResults.Ok(ItemResponse.From(item)) : NotFound(sku);

    private static async Task<Results<Created<ItemResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateItemRequest request, CatalogueChanges catalogue, CancellationToken ct)
    {
        var errors = ItemValidation.Create(request);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        return await catalogue.CreateAsync(new NewItem(request.Sku!, request.Name!, request.Price!.Value, request.Qty ?? 0), ct) switch
        {
            CreateItemOutcome.Created created => TypedResults.Created($"/inventory/{Uri.EscapeDataString(created.Item.Sku)}", ItemResponse.From(created.Item)),
            _ => TypedResults.Problem(statusCode: 409, title: "SKU already exists", detail: $"An item with sku '{request.Sku}' already exists."),
        };
    }

    private static async Task<Results<Ok<ItemResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string sku, UpdateItemRequest request, CatalogueChanges catalogue, CancellationToken ct)
    {
        var errors = ItemValidation.Update(request);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        var item = await catalogue.UpdateAsync(sku, new ItemChange(request.Name, request.Price, request.Qty), ct);
        return item is null ? NotFound(sku) : TypedResults.Ok(ItemResponse.From(item));
    }

    private static async Task<Results<Ok<ItemResponse>, ValidationProblem, ProblemHttpResult>> AdjustAsync(
        string sku, AdjustRequest request, CatalogueChanges catalogue, CancellationToken ct)
    {
        var errors = ItemValidation.Adjust(request);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        return await catalogue.AdjustAsync(sku, request.Delta!.Value, ct) switch
        {
            AdjustStockOutcome.Adjusted adjusted => TypedResults.Ok(ItemResponse.From(adjusted.Item)),
            AdjustStockOutcome.OutOfRange { BelowZero: true } refused => TypedResults.Problem(statusCode: 409, title: "Insufficient stock",
                detail: $"The adjustment would take stock below zero ({refused.Qty} in stock); nothing was changed."),
            AdjustStockOutcome.OutOfRange refused => TypedResults.Problem(statusCode: 409, title: "Stock limit exceeded",
                detail: $"The adjustment would take stock above the maximum of {CatalogueChanges.QtyMax} ({refused.Qty} in stock); nothing was changed."),
            _ => NotFound(sku),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string sku, CatalogueChanges catalogue, CancellationToken ct) =>
        await catalogue.DeleteAsync(sku, ct) ? TypedResults.NoContent() : NotFound(sku);

    private static ProblemHttpResult NotFound(string sku) =>
        ShopProblems.NotFound($"No item with sku '{sku}'.");
}
