namespace Shop.Inventory.Data;

internal sealed class InventoryDbContextDesignFactory : Shop.ServiceDefaults.NpgsqlDesignTimeFactory<InventoryDbContext>;
