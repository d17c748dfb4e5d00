using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Apis;

/// <summary>Service-to-service routes: outside the <c>/users</c> prefix, so the gateway never routes them.</summary>
public static class InternalUsersApi
{
    public static RouteGroupBuilder MapInternalUsersApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/internal/users")
            .RequireServiceCallers("orders", "inventory") // orders before taking an order; both for security stamps
            .ExcludeFromDescription();

        // Straight from the database, not the cache: this is the source other services trust for the
        // security stamp when Redis has none, and a cached row could be older than the stamp they hold.
        api.MapGet("/{id:int}", async Task<Results<Ok<UserStatusResponse>, NotFound>> (int id, UsersDbContext db, CancellationToken ct) =>
        {
            var user = await db.Users.AsNoTracking().Where(u => u.Id == id)
                .Select(u => new UserStatusResponse(u.Id, u.Role, u.IsActive, u.SecurityStamp))
                .FirstOrDefaultAsync(ct);
            return user is null ? TypedResults.NotFound() : TypedResults.Ok(user);
        });
        return api;
    }
}
