using System.Text.RegularExpressions;
using Shop.Inventory.Services;

namespace Shop.Inventory.Apis;

/// <summary>The field rules of every Inventory request, checked at the edge before any service runs.</summary>
internal static partial class ItemValidation
{
    public const int NameMax = 100;
    public const int SearchMax = 100;
    public const decimal PriceMax = 9_999_999_999.99m;
    public const int QtyMax = CatalogueChanges.QtyMax;
    public const int ReserveLinesMax = 100;
    public const int ReserveQtyMax = 1000;

    // \z, not $: .NET's $ also matches before a final line break, which the database's CHECK (PostgreSQL's $) refuses.
    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    public static partial Regex SkuPattern();

    public static ValidationErrors Search(string? q, int? limit, int? offset, out Paging paging)
    {
        var errors = new ValidationErrors();
        paging = Paging.Parse(limit, offset, errors);
        if (q is { Length: > SearchMax })
        {
            errors.Add("q", $"Must be at most {SearchMax} characters.");
        }
        return errors.RejectControlCharacters("q", q);
    }

    public static ValidationErrors Create(CreateItemRequest request)
    {
        var errors = new ValidationErrors();
        Sku(errors, request.Sku);
        errors.RequireName("name", request.Name, NameMax);
        if (request.Price is null)
        {
            errors.Add("price", "This field is required.");
        }
        Price(errors, request.Price);
        Qty(errors, request.Qty);
        return errors;
    }

    public static ValidationErrors Update(UpdateItemRequest request)
    {
        var errors = new ValidationErrors();
        if (request is { Name: null, Price: null, Qty: null })
        {
            // Unknown fields are ignored, so a misspelt one ("quantity") would otherwise be a 200 that changed nothing.
            return errors.Add("body", "Nothing to change: send at least one of name, price or qty.");
        }
        if (request.Name is not null)
        {
            errors.RequireName("name", request.Name, NameMax);
        }
        Price(errors, request.Price);
        Qty(errors, request.Qty);
        return errors;
    }

    public static ValidationErrors Adjust(AdjustRequest request)
    {
        var errors = new ValidationErrors();
        if (request.Delta is null)
        {
            errors.Add("delta", "This field is required.");
        }
        else if (request.Delta is < -QtyMax or > QtyMax)
        {
            errors.Add("delta", $"Must be between -{QtyMax} and {QtyMax}.");
        }
        return errors;
    }

    public static ValidationErrors Reserve(ReserveRequest request)
    {
        var errors = new ValidationErrors();
        if (request.OrderId is null || request.OrderId == Guid.Empty)
        {
            errors.Add("order_id", "This field is required.");
        }
        if (request.Items is not { Count: > 0 and <= ReserveLinesMax })
        {
            return errors.Add("items", $"Between 1 and {ReserveLinesMax} lines are required.");
        }
        for (var i = 0; i < request.Items.Count; i++)
        {
            Sku(errors, request.Items[i].Sku, $"items[{i}].sku");
            if (request.Items[i].Qty is not (>= 1 and <= ReserveQtyMax))
            {
                errors.Add($"items[{i}].qty", $"Must be between 1 and {ReserveQtyMax}.");
            }
        }
        if (request.Items.Select(l => l.Sku).Distinct(StringComparer.Ordinal).Count() != request.Items.Count)
        {
            errors.Add("items", "Each sku may appear at most once.");
        }
        return errors;
    }

    private static void Sku(ValidationErrors errors, string? sku, string field = "sku")
    {
        if (string.IsNullOrEmpty(sku))
        {
            errors.Add(field, "This field is required.");
        }
        else if (!SkuPattern().IsMatch(sku))
        {
            errors.Add(field, "Must be 1 to 64 characters of letters, digits, '.', '_' or '-'.");
        }
        else if (!IsAddressable(sku))
        {
            errors.Add(field, $"'{sku}' cannot be a sku: it would not be reachable as /inventory/{sku}. Choose another.");
        }
    }

    /// <summary>
    /// Whether <c>/inventory/{sku}</c> reaches the item: "." and ".." are dot segments that URL parsers remove, and
    /// "healthz" is the service's health route (routes match case-insensitively). The database's
    /// <c>ck_inventory_sku_addressable</c> says the same.
    /// </summary>
    public static bool IsAddressable(string sku) =>
        sku is not ("." or "..") && !sku.Equals("healthz", StringComparison.OrdinalIgnoreCase);

    private static void Price(ValidationErrors errors, decimal? price)
    {
        if (price is null)
        {
            return;
        }
        if (price < 0 || price > PriceMax)
        {
            errors.Add("price", "Must be between 0 and 9999999999.99.");
        }
        else if (decimal.Round(price.Value, 2) != price.Value)
        {
            errors.Add("price", "At most 2 decimal places.");
        }
    }

    private static void Qty(ValidationErrors errors, int? qty)
    {
        if (qty is < 0 or > QtyMax)
        {
            errors.Add("qty", $"Must be between 0 and {QtyMax}.");
        }
    }
}
