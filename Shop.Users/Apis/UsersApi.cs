using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;
using Shop.Users.Services;

namespace Shop.Users.Apis;

public static class UsersApi
{
    private static readonly TimeSpan CacheTtl = TimeSpan.FromMinutes(5);

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
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{id:int}", DeactivateAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("Deactivate a user and end their sessions (admin)");
        return api;
    }

    internal static Task<UserResponse?> FindCachedAsync(int id, UsersDbContext db, CacheStore cache, CancellationToken ct) =>
        cache.GetOrLoadAsync(AccountChanges.CacheKey(id), CacheTtl, async token =>
        {
            var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, token);
            return user is null ? null : UserResponse.From(user);
        }, ct);

    private static async Task<Results<Created<TokenResponse>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, UsersDbContext db, PasswordService passwords, SignInSessions sessions, HttpContext http, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.RequireString("name", request.Name, UserValidation.NameMax);
        UserValidation.Email(errors, request.Email);
        UserValidation.Password(errors, request.Password);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        // The common duplicate is refused before a password hash is spent on it; a race is still caught below.
        var normalizedEmail = User.Normalize(request.Email!);
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail, ct))
        {
            return EmailAlreadyRegistered();
        }
        var (hashed, hash) = await passwords.WithinCapAsync(() => passwords.Hash(request.Password!), ct);
        if (!hashed)
        {
            return SessionsApi.Busy(http);
        }
        var user = new User
        {
            Name = request.Name!.Trim(),
            Email = request.Email!.Trim(),
            NormalizedEmail = normalizedEmail,
            PasswordHash = hash,
            Role = Roles.User,
            CreatedAt = DateTime.UtcNow,
        };
        db.Users.Add(user);
        if (!await db.TrySaveUniqueAsync(ct))
        {
            return EmailAlreadyRegistered();
        }

        var issued = await sessions.StartAsync(user, ct);
        return TypedResults.Created($"/users/{user.Id}", SessionsApi.Respond(http, issued, request.ReturnRefreshToken == true));
    }

    private static ProblemHttpResult EmailAlreadyRegistered() =>
        TypedResults.Problem(statusCode: 409, title: "Email already registered", detail: "An account with this email already exists. Sign in instead, or register with another email.");

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetMeAsync(
        ClaimsPrincipal principal, UsersDbContext db, CacheStore cache, CancellationToken ct)
    {
        var me = principal.GetUserId() is { } id ? await FindCachedAsync(id, db, cache, ct) : null;
        if (me is null || !me.IsActive)
        {
            return InactiveCaller();
        }
        return TypedResults.Ok(me);
    }

    private static async Task<Results<Ok<Page<UserResponse>>, ValidationProblem>> ListAsync(
        int? limit, int? offset, UsersDbContext db, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var paging = Paging.Parse(limit, offset, errors);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(await db.Users.AsNoTracking().ToPageAsync(paging,
            users => users.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id), UserResponse.From, ct));
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetAsync(
        int id, ClaimsPrincipal principal, UsersDbContext db, CacheStore cache, CancellationToken ct)
    {
        if (!principal.IsAdmin() && principal.GetUserId() != id)
        {
            return NotFound();
        }
        var user = await FindCachedAsync(id, db, cache, ct);
        return user is null ? NotFound() : TypedResults.Ok(user);
    }

    private static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        int id, UpdateUserRequest request, ClaimsPrincipal principal, UsersDbContext db, PasswordService passwords,
        AccountChanges changes, HttpContext http, CancellationToken ct)
    {
        var isAdmin = principal.IsAdmin();
        var callerId = principal.GetUserId();
        var isSelf = callerId == id;
        if (!isAdmin && !isSelf)
        {
            return NotFound();
        }
        if (!isAdmin && (request.Role is not null || request.IsActive is not null))
        {
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "Only an admin may change role or activity.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null)
        {
            errors.RequireString("name", request.Name, UserValidation.NameMax);
        }
        if (request.Email is not null)
        {
            UserValidation.Email(errors, request.Email);
        }
        if (request.Password is not null)
        {
            UserValidation.Password(errors, request.Password);
        }
        // A stolen token alone must not be enough to take the account over by re-binding its email or password.
        if (isSelf && (request.Password is not null || request.Email is not null) && string.IsNullOrEmpty(request.CurrentPassword))
        {
            errors.Add("current_password", "Required to change your email or password.");
        }
        if (request.Role is not null && !Roles.All.Contains(request.Role))
        {
            errors.Add("role", "Must be one of: user, admin.");
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return NotFound();
        }
        if (isSelf && !user.IsActive)
        {
            return InactiveCaller();
        }
        if (isSelf && (request.Password is not null || request.Email is not null))
        {
            var (checkedPassword, verification) = await passwords.WithinCapAsync(() => passwords.Verify(user.PasswordHash, request.CurrentPassword!), ct);
            if (!checkedPassword)
            {
                return SessionsApi.Busy(http);
            }
            if (verification == PasswordVerificationResult.Failed)
            {
                return new ValidationErrors().Add("current_password", "The current password is incorrect.").ToProblem();
            }
        }
        if (isSelf && isAdmin && (request.IsActive == false || request.Role == Roles.User))
        {
            return TypedResults.Problem(statusCode: 409, title: "Cannot lock yourself out", detail: "An admin cannot deactivate or demote their own account.");
        }

        if (request.Name is not null) user.Name = request.Name.Trim();
        if (request.Email is not null)
        {
            user.Email = request.Email.Trim();
            user.NormalizedEmail = User.Normalize(request.Email);
        }
        if (request.Password is not null)
        {
            var (hashed, hash) = await passwords.WithinCapAsync(() => passwords.Hash(request.Password), ct);
            if (!hashed)
            {
                return SessionsApi.Busy(http);
            }
            user.PasswordHash = hash;
        }
        if (request.Role is not null) user.Role = request.Role;
        if (request.IsActive is { } active) user.IsActive = active;

        return await changes.SaveAsync(user, callerId, principal.GetSessionId(), ct) switch
        {
            ChangeOutcome.EmailTaken => TypedResults.Problem(statusCode: 409, title: "Email already registered", detail: "Another account uses this email."),
            ChangeOutcome.ConcurrentChange => TypedResults.Problem(statusCode: 409, title: "Changed concurrently", detail: "The account was changed by another request at the same time. Reload it and try again."),
            _ => TypedResults.Ok(UserResponse.From(user)),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeactivateAsync(
        int id, ClaimsPrincipal principal, UsersDbContext db, AccountChanges changes, CancellationToken ct)
    {
        if (principal.GetUserId() == id)
        {
            return TypedResults.Problem(statusCode: 409, title: "Cannot lock yourself out", detail: "An admin cannot deactivate their own account.");
        }
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return NotFound();
        }
        user.IsActive = false;
        return await changes.SaveAsync(user, principal.GetUserId(), principal.GetSessionId(), ct) == ChangeOutcome.ConcurrentChange
            ? TypedResults.Problem(statusCode: 409, title: "Changed concurrently", detail: "The account was changed by another request at the same time. Try again.")
            : TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound() =>
        ShopProblems.NotFound("No such user.");

    private static ProblemHttpResult InactiveCaller() =>
        TypedResults.Problem(statusCode: 403, title: "Account deactivated", detail: "This account is deactivated.");
}
