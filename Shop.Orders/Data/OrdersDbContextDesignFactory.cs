namespace Shop.Orders.Data;

internal sealed class OrdersDbContextDesignFactory : Shop.ServiceDefaults.NpgsqlDesignTimeFactory<OrdersDbContext>;
