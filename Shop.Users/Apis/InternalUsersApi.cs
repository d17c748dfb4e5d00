using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Users.Data;

namespace Shop.Users.Apis;

/// <summary>Service-to-service routes: outside the <c>/users</c> prefix, so the gateway never routes them.</summary>
public static class InternalUsersApi
{
    public static RouteGroupBuilder MapInternalUsersApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/internal/users")
            .RequireAuthorization(ShopAuthentication.ServicePolicy)
            .ExcludeFromDescription();

        api.MapGet("/{id:int}", async Task<Results<Ok<UserStatusResponse>, NotFound>> (int id, UsersDbContext db, CacheStore cache, CancellationToken ct) =>
        {
            var user = await UsersApi.FindCachedAsync(id, db, cache, ct);
            return user is null ? TypedResults.NotFound() : TypedResults.Ok(new UserStatusResponse(user.Id, user.Role, user.IsActive));
        });
        return api;
    }
}
