using Microsoft.EntityFrameworkCore;
using Shop.Inventory.Data;

namespace Shop.Inventory.Services;

/// <summary>A dozen products so a newcomer sees a shop at once (Development only, empty catalogue only).</summary>
public static class DemoCatalogue
{
    private static readonly (string Sku, string Name, decimal Price, int Qty)[] Items =
    [
        ("MUG-CLASSIC", "Classic ceramic mug", 12.50m, 120),
        ("TEE-ORGANIC-M", "Organic cotton T-shirt (M)", 24.00m, 60),
        ("TEE-ORGANIC-L", "Organic cotton T-shirt (L)", 24.00m, 45),
        ("BOTTLE-STEEL", "Insulated steel bottle", 29.90m, 80),
        ("NOTEBOOK-A5", "Dotted notebook A5", 9.75m, 200),
        ("PEN-FOUNTAIN", "Fountain pen", 39.00m, 25),
        ("BAG-CANVAS", "Canvas tote bag", 18.00m, 70),
        ("LAMP-DESK", "LED desk lamp", 54.90m, 15),
        ("HEADPHONES-BT", "Bluetooth headphones", 89.00m, 12),
        ("CHARGER-USBC", "USB-C fast charger", 19.99m, 150),
        ("PLANT-POT", "Terracotta plant pot", 14.25m, 40),
        ("SOCKS-WOOL", "Merino wool socks", 16.50m, 0),
    ];

    public static async Task SeedDemoCatalogueAsync(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment() || !app.Configuration.GetValue("Inventory:SeedDemoCatalogue", true))
        {
            return;
        }
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();
        if (await db.Items.AnyAsync())
        {
            return;
        }
        foreach (var (sku, name, price, qty) in Items)
        {
            // Replicas may seed at the same moment; the unique sku settles it.
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO inventory (sku, name, price, qty, created_at, updated_at)
                VALUES ({sku}, {name}, {price}, {qty}, now(), now())
                ON CONFLICT (sku) DO NOTHING
                """);
        }
        app.Logger.LogInformation("Seeded the demo catalogue ({Count} items)", Items.Length);
    }
}
