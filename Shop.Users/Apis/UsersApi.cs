using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Users.Services;

namespace Shop.Users.Apis;

/// <summary>Accounts: registration (<see cref="Registration"/>), reads (<see cref="AccountReader"/>) and changes (<see cref="AccountUpdates"/>).</summary>
public static class UsersApi
{
    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/users").WithTags("Users");

        api.MapPost("/register", RegisterAsync).AllowAnonymous()
            .WithSummary("Create an account (role user) and sign in")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/.well-known/jwks.json", (TokenIssuer issuer) => TypedResults.Json(issuer.Jwks()))
            .AllowAnonymous().WithSummary("Public keys that verify access tokens");

        api.MapGet("/me", GetMeAsync).RequireAuthorization().WithSummary("The signed-in user");
        api.MapGet("/", ListAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("All users, newest first (admin)");
        api.MapGet("/{id:int}", GetAsync).RequireAuthorization().WithSummary("One user (self or admin)");
        api.MapPatch("/{id:int}", UpdateAsync).RequireAuthorization()
            .WithSummary("Change a user (self: profile, email and password, with current_password for the last two; admin: also role and activity)")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapDelete("/{id:int}", DeactivateAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("Deactivate a user and end their sessions (admin)");
        return api;
    }

    private static async Task<Results<Created<TokenResponse>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, Registration registration, HttpContext http, CancellationToken ct)
    {
        var errors = UserValidation.Register(request);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        return await registration.RegisterAsync(new NewAccount(request.Name!, request.Email!, request.Password!), ct) switch
        {
            RegistrationOutcome.Registered r => TypedResults.Created($"/users/{r.Tokens.User.Id}", SessionsApi.Respond(http, r.Tokens, request.ReturnRefreshToken == true)),
            RegistrationOutcome.Busy => SessionsApi.Busy(http),
            _ => TypedResults.Problem(statusCode: 409, title: "Email already registered", detail: "An account with this email already exists. Sign in instead, or register with another email."),
        };
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetMeAsync(
        ClaimsPrincipal principal, AccountReader accounts, CancellationToken ct)
    {
        var me = principal.GetUserId() is { } id ? await accounts.GetAsync(id, ct) : null;
        if (me is null || !me.IsActive)
        {
            return InactiveCaller();
        }
        return TypedResults.Ok(UserResponse.From(me));
    }

    private static async Task<Results<Ok<Page<UserResponse>>, ValidationProblem>> ListAsync(
        int? limit, int? offset, AccountReader accounts, CancellationToken ct)
    {
        if (!Paging.TryParse(limit, offset, out var paging, out var problem))
        {
            return problem;
        }
        return TypedResults.Ok(await accounts.ListAsync(paging, UserResponse.From, ct));
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetAsync(
        int id, ClaimsPrincipal principal, AccountReader accounts, CancellationToken ct)
    {
        if (!principal.IsAdmin() && principal.GetUserId() != id)
        {
            return NotFound();
        }
        var user = await accounts.GetAsync(id, ct);
        return user is null ? NotFound() : TypedResults.Ok(UserResponse.From(user));
    }

    private static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        int id, UpdateUserRequest request, ClaimsPrincipal principal, AccountUpdates updates, HttpContext http, CancellationToken ct)
    {
        var actor = ActorOf(principal) with { Address = http.Connection.RemoteIpAddress };
        var isSelf = actor.UserId == id;
        if (!actor.IsAdmin && !isSelf)
        {
            return NotFound();
        }
        if (!actor.IsAdmin && (request.Role is not null || request.IsActive is not null))
        {
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "Only an admin can change role or is_active. To change your own name, email or password, send the request without role and is_active.");
        }
        var errors = UserValidation.Update(request, isSelf);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var update = new AccountUpdate(request.Name, request.Email, request.Password, request.CurrentPassword, request.Role, request.IsActive);
        return await updates.UpdateAsync(id, update, actor, ct) switch
        {
            UpdateOutcome.Updated u => TypedResults.Ok(UserResponse.From(u.User)),
            UpdateOutcome.NotFound => NotFound(),
            UpdateOutcome.InactiveCaller => InactiveCaller(),
            UpdateOutcome.WrongCurrentPassword => new ValidationErrors().Add("current_password", "The current password is incorrect.").ToProblem(),
            UpdateOutcome.SelfLockout => TypedResults.Problem(statusCode: 409, title: "Cannot lock yourself out", detail: "An admin cannot deactivate or demote their own account."),
            UpdateOutcome.EmailTaken => TypedResults.Problem(statusCode: 409, title: "Email already registered", detail: "Another account uses this email."),
            UpdateOutcome.ConcurrentChange => TypedResults.Problem(statusCode: 409, title: "Changed concurrently", detail: "The account was changed by another request at the same time. Reload it and try again."),
            UpdateOutcome.AskerNoLongerAdmin => AskerNoLongerAdmin(),
            UpdateOutcome.Busy => SessionsApi.Busy(http),
            UpdateOutcome.Throttled throttled => SessionsApi.Throttled(http, throttled.RetryAfterSeconds),
            UpdateOutcome.NotCounted => SessionsApi.NotCounted(http),
            _ => throw new InvalidOperationException("Unexpected update outcome."),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeactivateAsync(
        int id, ClaimsPrincipal principal, AccountUpdates updates, CancellationToken ct) =>
        await updates.DeactivateAsync(id, ActorOf(principal), ct) switch
        {
            DeactivateOutcome.SelfLockout => TypedResults.Problem(statusCode: 409, title: "Cannot lock yourself out", detail: "An admin cannot deactivate their own account."),
            DeactivateOutcome.NotFound => NotFound(),
            DeactivateOutcome.ConcurrentChange => TypedResults.Problem(statusCode: 409, title: "Changed concurrently", detail: "The account was changed by another request at the same time. Try again."),
            DeactivateOutcome.AskerNoLongerAdmin => AskerNoLongerAdmin(),
            _ => TypedResults.NoContent(),
        };

    private static Actor ActorOf(ClaimsPrincipal principal) => new(principal.GetUserId(), principal.GetSessionId(), principal.IsAdmin());

    private static ProblemHttpResult NotFound() =>
        ShopProblems.NotFound("No such user.");

    /// <summary>The admin asking lost the role or was deactivated while asking to take another admin's power.</summary>
    private static ProblemHttpResult AskerNoLongerAdmin() =>
        TypedResults.Problem(statusCode: 403, title: "No longer an admin",
            detail: "Your account lost its admin role or was deactivated while this request was on its way, so it was not applied. Sign in again to see what you may do.");

    private static ProblemHttpResult InactiveCaller() =>
        TypedResults.Problem(statusCode: 403, title: "Account deactivated", detail: "This account is deactivated.");
}
