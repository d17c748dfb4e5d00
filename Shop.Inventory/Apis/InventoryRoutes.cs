using Shop.Inventory.Apis;

namespace Shop.Inventory;

/// <summary>Every route group of the service, mapped in one call from Program.cs (the REST shapes stay inside Apis/).</summary>
public static class InventoryRoutes
{
    public static WebApplication MapInventoryRoutes(this WebApplication app)
    {
        app.MapInventoryApi();
        app.MapInternalReservationsApi();
        return app;
    }
}
