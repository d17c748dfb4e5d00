namespace Shop.Orders.Data;

internal sealed class OrdersDbContextDesignFactory : Microsoft.Extensions.Hosting.NpgsqlDesignTimeFactory<OrdersDbContext>;
