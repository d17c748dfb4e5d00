using Shop.Orders.Apis;

namespace Shop.Orders;

/// <summary>Every route group of the service, mapped in one call from Program.cs (the REST shapes stay inside Apis/).</summary>
public static class OrdersRoutes
{
    public static WebApplication MapOrdersRoutes(this WebApplication app)
    {
        app.MapOrdersApi();
        app.MapWebhooksApi();
        return app;
    }
}
