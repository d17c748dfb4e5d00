namespace Shop.Inventory.Data;

internal sealed class InventoryDbContextDesignFactory : Microsoft.Extensions.Hosting.NpgsqlDesignTimeFactory<InventoryDbContext>;
