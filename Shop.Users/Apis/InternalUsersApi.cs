using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Users.Services;

namespace Shop.Users.Apis;

/// <summary>Service-to-service routes: outside the <c>/users</c> prefix, so the gateway never routes them.</summary>
public static class InternalUsersApi
{
    public static RouteGroupBuilder MapInternalUsersApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/internal/users")
            .RequireServiceCallers("orders", "inventory") // orders before taking an order; both for security stamps
            .ExcludeFromDescription();

        api.MapGet("/{id:int}", async Task<Results<Ok<UserStatusResponse>, NotFound>> (int id, AccountReader accounts, CancellationToken ct) =>
            await accounts.StatusAsync(id, ct) is { } status ? TypedResults.Ok(UserStatusResponse.From(status)) : TypedResults.NotFound());
        return api;
    }
}
