using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
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
            .WithSummary("Create an account (role user) and sign in");
        api.MapPost("/login", LoginAsync).AllowAnonymous()
            .WithSummary("Exchange email and password for an access token");
        api.MapGet("/.well-known/jwks.json", (TokenIssuer issuer) => TypedResults.Json(issuer.Jwks()))
            .AllowAnonymous().WithSummary("Public keys that verify access tokens");

        api.MapGet("/me", GetMeAsync).RequireAuthorization().WithSummary("The signed-in user");
        api.MapGet("/", ListAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("All users, newest first (admin)");
        api.MapGet("/{id:int}", GetAsync).RequireAuthorization().WithSummary("One user (self or admin)");
        api.MapPatch("/{id:int}", UpdateAsync).RequireAuthorization().WithSummary("Change a user (self: profile and password; admin: also role and activity)");
        api.MapDelete("/{id:int}", DeactivateAsync).RequireAuthorization(ShopAuthentication.AdminPolicy).WithSummary("Deactivate a user (admin)");
        return api;
    }

    internal static string CacheKey(int id) => $"user:{id}";

    internal static Task<UserResponse?> FindCachedAsync(int id, UsersDbContext db, CacheStore cache, CancellationToken ct) =>
        cache.GetOrLoadAsync(CacheKey(id), CacheTtl, async token =>
        {
            var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, token);
            return user is null ? null : UserResponse.From(user);
        }, ct);

    private static async Task<Results<Created<TokenResponse>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, UsersDbContext db, PasswordService passwords, TokenIssuer tokens, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.RequireString("name", request.Name, UserValidation.NameMax);
        UserValidation.Email(errors, request.Email);
        UserValidation.Password(errors, request.Password);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var user = new User
        {
            Name = request.Name!.Trim(),
            Email = request.Email!.Trim(),
            NormalizedEmail = User.Normalize(request.Email!),
            PasswordHash = passwords.Hash(request.Password!),
            Role = Roles.User,
            CreatedAt = DateTime.UtcNow,
        };
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return TypedResults.Problem(statusCode: 409, title: "Email already registered", detail: "An account with this email already exists.");
        }

        var (token, expiresIn) = tokens.Issue(user);
        return TypedResults.Created($"/users/{user.Id}", new TokenResponse(token, "bearer", expiresIn, UserResponse.From(user)));
    }

    private static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> LoginAsync(
        LoginRequest request, UsersDbContext db, PasswordService passwords, TokenIssuer tokens, LoginThrottle throttle,
        HttpContext http, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.RequireString("email", request.Email, UserValidation.EmailMax);
        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "This field is required.");
        }
        else if (request.Password.Length > PasswordService.MaxLength)
        {
            errors.Add("password", $"Must be at most {PasswordService.MaxLength} characters.");
        }
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }

        var normalized = User.Normalize(request.Email!);
        if (await throttle.RetryAfterAsync(normalized) is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = retryAfter.ToString();
            return TypedResults.Problem(statusCode: 429, title: "Too many failed sign-in attempts",
                detail: $"Try again in {Math.Max(1, retryAfter / 60)} minute(s).");
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        var verification = PasswordVerificationResult.Failed;
        if (user is null)
        {
            passwords.VerifyAgainstDummy(request.Password!);
        }
        else
        {
            verification = passwords.Verify(user.PasswordHash, request.Password!);
        }

        if (user is null || verification == PasswordVerificationResult.Failed || !user.IsActive)
        {
            await throttle.RecordFailureAsync(normalized);
            // One answer for unknown email, wrong password and inactive account.
            return TypedResults.Problem(statusCode: 401, title: "Invalid credentials", detail: "The email or password is incorrect.");
        }

        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = passwords.Hash(request.Password!);
            await db.SaveChangesAsync(ct);
        }
        await throttle.ResetAsync(normalized);
        var (token, expiresIn) = tokens.Issue(user);
        return TypedResults.Ok(new TokenResponse(token, "bearer", expiresIn, UserResponse.From(user)));
    }

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
        var total = await db.Users.CountAsync(ct);
        var users = await db.Users.AsNoTracking()
            .OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id)
            .Skip(paging.Offset).Take(paging.Limit)
            .ToListAsync(ct);
        return TypedResults.Ok(new Page<UserResponse>([.. users.Select(UserResponse.From)], total, paging.Limit, paging.Offset));
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
        CacheStore cache, CancellationToken ct)
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
            if (isSelf && string.IsNullOrEmpty(request.CurrentPassword))
            {
                errors.Add("current_password", "Required to change your password.");
            }
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
        if (request.Password is not null && isSelf &&
            passwords.Verify(user.PasswordHash, request.CurrentPassword!) == PasswordVerificationResult.Failed)
        {
            return new ValidationErrors().Add("current_password", "The current password is incorrect.").ToProblem();
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
        if (request.Password is not null) user.PasswordHash = passwords.Hash(request.Password);
        if (request.Role is not null) user.Role = request.Role;
        if (request.IsActive is { } active) user.IsActive = active;

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return TypedResults.Problem(statusCode: 409, title: "Email already registered", detail: "Another account uses this email.");
        }
        await cache.InvalidateAsync(CacheKey(id));
        return TypedResults.Ok(UserResponse.From(user));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeactivateAsync(
        int id, ClaimsPrincipal principal, UsersDbContext db, CacheStore cache, CancellationToken ct)
    {
        if (principal.GetUserId() == id)
        {
            return TypedResults.Problem(statusCode: 409, title: "Cannot lock yourself out", detail: "An admin cannot deactivate their own account.");
        }
        var changed = await db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsActive, false), ct);
        if (changed == 0)
        {
            return NotFound();
        }
        await cache.InvalidateAsync(CacheKey(id));
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such user.");

    private static ProblemHttpResult InactiveCaller() =>
        TypedResults.Problem(statusCode: 403, title: "Account deactivated", detail: "This account is deactivated.");
}
