using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;
using Shop.Users.Services;

namespace Shop.Users.Apis;

/// <summary>
/// Sign-in, refresh and sign-out. A browser keeps its refresh token in an HttpOnly, Secure,
/// SameSite=Strict cookie limited to <see cref="RefreshCookiePath"/>: script on the page (an injected
/// one included) can neither read it nor see it in a response, other sites cannot make the browser send
/// it, and no other request carries it. API clients ask for it in the body instead.
/// </summary>
public static class SessionsApi
{
    public const string RefreshCookie = "shop_refresh";
    public const string RefreshCookiePath = "/users/token";

    public static RouteGroupBuilder MapSessionsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/users").WithTags("Sessions");
        api.MapPost("/login", LoginAsync).AllowAnonymous()
            .WithSummary("Exchange email and password for an access token and a refresh token")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/token/refresh", RefreshAsync).AllowAnonymous()
            .WithSummary("Exchange the refresh token (cookie or body) for a new access token and the session's next refresh token")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        api.MapPost("/logout", LogoutAsync).AllowAnonymous()
            .WithSummary("End this sign-in session (identified by the access token or the refresh token)");
        api.MapPost("/logout-everywhere", LogoutEverywhereAsync).RequireAuthorization()
            .WithSummary("End every session and access token of the signed-in account");
        return api;
    }

    private static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> LoginAsync(
        LoginRequest request, UsersDbContext db, PasswordService passwords, SignInSessions sessions, LoginThrottle throttle,
        SecurityAudit audit, HttpContext http, CancellationToken ct)
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
        var (attempt, retryAfter) = await throttle.TryAcquireAsync(normalized, http.Connection.RemoteIpAddress);
        if (attempt is null)
        {
            audit.Record("auth.locked", normalized, normalized, $"retry after {retryAfter} s");
            http.Response.Headers.RetryAfter = retryAfter.ToString();
            return TypedResults.Problem(statusCode: 429, title: "Too many sign-in attempts",
                detail: $"Too many attempts for this account or from this address. Try again in {retryAfter} second(s).");
        }

        bool? succeeded = null;
        try
        {
            var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
            var (checkedPassword, verification) = await passwords.WithinCapAsync(() => user is null
                ? passwords.VerifyAgainstDummy(request.Password!)
                : passwords.Verify(user.PasswordHash, request.Password!), ct);
            if (!checkedPassword)
            {
                return Busy(http);
            }
            if (user is null || verification == PasswordVerificationResult.Failed || !user.IsActive)
            {
                succeeded = false;
                audit.Record("auth.login_failed", normalized, user?.Id.ToString());
                // One answer for unknown email, wrong password and inactive account.
                return TypedResults.Problem(statusCode: 401, title: "Invalid credentials", detail: "The email or password is incorrect.");
            }
            succeeded = true;
            if (verification == PasswordVerificationResult.SuccessRehashNeeded)
            {
                user.PasswordHash = passwords.Hash(request.Password!);
                await db.SaveChangesAsync(ct);
            }
            var issued = await sessions.StartAsync(user, ct);
            return TypedResults.Ok(Respond(http, issued, request.ReturnRefreshToken == true));
        }
        finally
        {
            await throttle.ReleaseAsync(attempt, succeeded);
        }
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(
        [FromBody] RefreshRequest? request, SignInSessions sessions, HttpContext http, CancellationToken ct)
    {
        var fromBody = !string.IsNullOrEmpty(request?.RefreshToken);
        var presented = fromBody ? request!.RefreshToken : http.Request.Cookies[RefreshCookie];
        if (string.IsNullOrEmpty(presented))
        {
            return SessionEnded("No refresh token was sent. Sign in again.");
        }
        var (outcome, issued) = await sessions.RefreshAsync(presented, ct);
        if (outcome != RefreshOutcome.Refreshed)
        {
            if (!fromBody)
            {
                ClearCookie(http);
            }
            return SessionEnded(outcome == RefreshOutcome.Reused
                ? "This refresh token was already used, so the session was ended to protect the account. Sign in again."
                : "The session has ended (signed out, expired or the account changed). Sign in again.");
        }
        return TypedResults.Ok(Respond(http, issued!, fromBody));
    }

    private static async Task<NoContent> LogoutAsync(
        [FromBody] RefreshRequest? request, ClaimsPrincipal principal, SignInSessions sessions, SecurityAudit audit,
        HttpContext http, CancellationToken ct)
    {
        var presented = !string.IsNullOrEmpty(request?.RefreshToken) ? request!.RefreshToken : http.Request.Cookies[RefreshCookie];
        var session = principal.GetSessionId()
            ?? (string.IsNullOrEmpty(presented) ? null : await sessions.FindSessionAsync(presented, ct));
        if (session is { } id)
        {
            await sessions.RevokeFamilyAsync(id, ct);
            audit.Record("auth.logout", principal.GetUserId()?.ToString(), $"session {id:N}");
        }
        ClearCookie(http);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> LogoutEverywhereAsync(
        ClaimsPrincipal principal, AccountChanges changes, HttpContext http, CancellationToken ct)
    {
        await changes.SignOutEverywhereAsync(principal.GetUserId()!.Value, ct);
        ClearCookie(http);
        return TypedResults.NoContent();
    }

    internal static TokenResponse Respond(HttpContext http, IssuedTokens issued, bool refreshTokenInBody)
    {
        var response = new TokenResponse(issued.AccessToken, "bearer", issued.ExpiresIn, UserResponse.From(issued.User));
        if (refreshTokenInBody)
        {
            return response with { RefreshToken = issued.RefreshToken, RefreshExpiresIn = (int)(issued.RefreshExpiresAt - DateTime.UtcNow).TotalSeconds };
        }
        http.Response.Cookies.Append(RefreshCookie, issued.RefreshToken, CookieOptions(issued.RefreshExpiresAt));
        return response;
    }

    private static void ClearCookie(HttpContext http) => http.Response.Cookies.Delete(RefreshCookie, CookieOptions(null));

    private static CookieOptions CookieOptions(DateTime? expires) => new()
    {
        HttpOnly = true,
        // Browsers accept Secure cookies from http://localhost, so development needs no exception.
        Secure = true,
        SameSite = SameSiteMode.Strict,
        Path = RefreshCookiePath,
        Expires = expires,
        IsEssential = true,
    };

    private static ProblemHttpResult SessionEnded(string detail) =>
        TypedResults.Problem(statusCode: 401, title: "Session ended", detail: detail);

    internal static ProblemHttpResult Busy(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "2";
        return TypedResults.Problem(statusCode: 503, title: "Too many sign-ins at once",
            detail: "The service is checking too many passwords right now. Try again in a few seconds.");
    }
}
