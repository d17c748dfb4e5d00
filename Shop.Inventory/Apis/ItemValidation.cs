using System.Text.RegularExpressions;

namespace Shop.Inventory.Apis;

internal static partial class ItemValidation
{
    public const int NameMax = 100;
    public const decimal PriceMax = 9_999_999_999.99m;
    public const int QtyMax = 1_000_000_000;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    public static partial Regex SkuPattern();

    public static void Sku(ValidationErrors errors, string? sku, string field = "sku")
    {
        if (string.IsNullOrEmpty(sku))
        {
            errors.Add(field, "This field is required.");
        }
        else if (!SkuPattern().IsMatch(sku))
        {
            errors.Add(field, "Must be 1 to 64 characters of letters, digits, '.', '_' or '-'.");
        }
    }

    public static void Price(ValidationErrors errors, decimal? price)
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

    public static void Qty(ValidationErrors errors, int? qty)
    {
        if (qty is < 0 or > QtyMax)
        {
            errors.Add("qty", $"Must be between 0 and {QtyMax}.");
        }
    }
}
