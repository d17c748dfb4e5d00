using Shop.Inventory;
using Shop.Inventory.Data;
using Shop.Inventory.Services;

var builder = WebApplication.CreateBuilder(args);
if (await builder.RunMigrationStepAsync<InventoryDbContext>(args, "inventorydb"))
{
    return;
}
builder.AddServiceDefaults();
builder.AddShopDbContext<InventoryDbContext, WebApplicationBuilder>("inventorydb");
builder.AddShopRedis(databaseIndex: 2);
builder.AddShopAuthentication();
builder.AddShopOpenApi("Shop Inventory API", "The catalogue: items by sku with price and stock.", new Dictionary<string, string>
{
    ["Inventory"] = "Read the catalogue; admins create, change, adjust and delete items",
});

// Redis refuses an expiry under a millisecond, and the cache takes that refusal for Redis being away: the cache would
// be off without a word.
builder.AddStartupSettings<InventoryCacheOptions>("Inventory:Cache")
    .Validate(o => o.Ttl >= TimeSpan.FromMilliseconds(1), "Inventory:Cache:Ttl must be at least a millisecond (default 00:05:00); to turn the cache off set Inventory:Cache:Enabled=false.");
builder.Services.AddScoped<ItemReader>();
builder.Services.AddScoped<StockReservations>();
builder.Services.AddScoped<CatalogueChanges>();

builder.AddNoDataProtection();

var app = builder.Build();
await app.MigrateDatabaseAsync<InventoryDbContext>("inventorydb");
await app.SeedDemoCatalogueAsync();

app.UseServiceDefaults();
app.UseAuthentication();
app.UseAuthorization();

app.MapShopOpenApi("/inventory");
app.MapDefaultEndpoints(publicPrefix: "/inventory");
app.MapInventoryRoutes();

app.Run();

public partial class Program;
