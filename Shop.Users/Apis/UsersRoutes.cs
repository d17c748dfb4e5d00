using Shop.Users.Apis;

namespace Shop.Users;

/// <summary>Every route group of the service, mapped in one call from Program.cs (the REST shapes stay inside Apis/).</summary>
public static class UsersRoutes
{
    public static WebApplication MapUsersRoutes(this WebApplication app)
    {
        app.MapUsersApi();
        app.MapSessionsApi();
        app.MapInternalUsersApi();
        return app;
    }
}
