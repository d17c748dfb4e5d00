using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Shop.ServiceDefaults;
using Shop.Users.Services;

namespace Shop.Users.Apis;

/// <summary>
/// Sign-in, refresh and sign-out. A browser keeps its refresh token in an HttpOnly, Secure,
/// SameSite=Strict <c>__Host-</c> cookie (<see cref="RefreshCookies"/>): script on the page (an injected
/// one included) can neither read it nor see it in a response, other sites cannot make the browser send
/// it, no sibling host can set or shadow it, and the gateway forwards it only to the refresh route.
/// API clients ask for it in the body instead.
/// </summary>
public static class SessionsApi
{
    /// <summary>
    /// Set and deleted with the refresh cookie, which script cannot see: it tells the SPA's new tab that there is
    /// a session to restore, so a visitor who never signed in sends no refresh only to be refused. It holds no secret,
    /// so it keeps its plain name: one tossed by a sibling host only makes a new tab ask for a refresh, which the
    /// refresh cookie (that no sibling can set) decides, and one deleted only leaves a new tab signed out.
    /// </summary>
    public const string SessionMarkerCookie = "shop_session";

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
        LoginRequest request, PasswordSignIn signIn, HttpContext http, CancellationToken ct)
    {
        var errors = UserValidation.Login(request);
        if (!errors.IsValid)
        {
            return errors.ToProblem();
        }
        switch (await signIn.SignInAsync(request.Email!, request.Password!, http.Connection.RemoteIpAddress, ct))
        {
            case SignInOutcome.SignedIn signedIn:
                return TypedResults.Ok(Respond(http, signedIn.Tokens, request.ReturnRefreshToken == true));
            case SignInOutcome.Throttled throttled:
                return Throttled(http, throttled.RetryAfterSeconds);
            case SignInOutcome.Busy:
                return Busy(http);
            case SignInOutcome.NotCounted:
                return NotCounted(http);
            default:
                // One answer for unknown email, wrong password and inactive account.
                return TypedResults.Problem(statusCode: 401, title: "Invalid credentials", detail: "The email or password is incorrect.");
        }
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(
        [FromBody] RefreshRequest? request, SignInSessions sessions, HttpContext http, CancellationToken ct)
    {
        var fromBody = !string.IsNullOrEmpty(request?.RefreshToken);
        var cookie = RefreshCookies.Read(http.Request.Headers.Cookie);
        if (!fromBody && cookie.Ambiguous)
        {
            // Another host of the site tossed one in: either could be the attacker's, so neither is used.
            ClearCookie(http);
            return SessionEnded("The browser sent more than one refresh cookie (another site under this domain may have set one), so none was used. Sign in again.");
        }
        var presented = fromBody ? request!.RefreshToken : cookie.Token;
        if (string.IsNullOrEmpty(presented))
        {
            // A browser's marker left without its refresh cookie would have every new tab ask again, only to be refused.
            if (!fromBody)
            {
                ClearCookie(http);
            }
            return SessionEnded(!fromBody && cookie.LegacyPresent
                ? "This browser's sign-in is kept in a cookie an earlier version of the shop set, which is no longer accepted (any site under this domain could set one). Sign in again."
                : "No refresh token was sent. Sign in again.");
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
        if (!fromBody && cookie.LegacyPresent)
        {
            // A cookie under the name of before the prefix is never read (RefreshCookies.LegacyName): it goes.
            http.Response.Cookies.Delete(RefreshCookies.LegacyName, LegacyCookieOptions());
        }
        return TypedResults.Ok(Respond(http, issued!, fromBody));
    }

    private static async Task<NoContent> LogoutAsync(
        [FromBody] RefreshRequest? request, ClaimsPrincipal principal, SignInSessions sessions, TokenIssuer tokens, HttpContext http, CancellationToken ct)
    {
        var presented = !string.IsNullOrEmpty(request?.RefreshToken) ? request!.RefreshToken : RefreshCookies.Read(http.Request.Headers.Cookie).Token;
        // An access token refused since it was issued (the account changed: a new role, a new email) still names
        // its session, whose refresh token lives in a cookie only /users/token/refresh receives (the gateway keeps it
        // from every other route): a browser signing out
        // has nothing else to name it with.
        var session = principal.GetSessionId()
            ?? (BearerToken(http) is { } bearer ? await tokens.SessionOfAsync(bearer) : null);
        await sessions.SignOutAsync(session, presented, principal.GetUserId(), ct);
        // The cookie is not deleted here: a browser never sends it to this route, so it may be another user's (signed
        // in from another tab since). Where it was this session's, it is a revoked token now, refused and deleted (with
        // its marker) by the next refresh, and replaced by the next sign-in; the SPA deletes the marker itself at sign-out,
        // so no new tab restores the session even when this request never arrives.
        return TypedResults.NoContent();
    }

    private static string? BearerToken(HttpContext http) =>
        http.Request.Headers.Authorization.ToString() is var header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header["Bearer ".Length..].Trim()
            : null;

    private static async Task<NoContent> LogoutEverywhereAsync(
        ClaimsPrincipal principal, AccountChanges changes, CancellationToken ct)
    {
        await changes.SignOutEverywhereAsync(principal.GetUserId()!.Value, ct);
        // The browser's cookie is left alone, as at sign-out (above): it may be another user's.
        return TypedResults.NoContent();
    }

    internal static TokenResponse Respond(HttpContext http, IssuedTokens issued, bool refreshTokenInBody)
    {
        var response = new TokenResponse(issued.AccessToken, "bearer", issued.ExpiresIn, UserResponse.From(issued.User));
        if (refreshTokenInBody)
        {
            return response with { RefreshToken = issued.RefreshToken, RefreshExpiresIn = (int)(issued.RefreshExpiresAt - DateTime.UtcNow).TotalSeconds };
        }
        http.Response.Cookies.Append(RefreshCookies.Name, issued.RefreshToken, CookieOptions());
        http.Response.Cookies.Append(SessionMarkerCookie, "1", MarkerCookieOptions());
        return response;
    }

    private static void ClearCookie(HttpContext http)
    {
        http.Response.Cookies.Delete(RefreshCookies.Name, CookieOptions());
        http.Response.Cookies.Delete(RefreshCookies.LegacyName, LegacyCookieOptions());
        http.Response.Cookies.Delete(SessionMarkerCookie, MarkerCookieOptions());
    }

    /// <remarks>
    /// No <c>Expires</c>: the cookie ends with the browser session. A new tab or window of the SPA signs in from it (where
    /// <see cref="SessionMarkerCookie"/> says it is there), so a cookie that outlived the browser would sign the next
    /// person at a shared computer in as the last shopper. A browser that restores its last session on start keeps
    /// session cookies too; the session itself still ends at <c>Jwt:RefreshLifetime</c> without use, and at
    /// <c>Jwt:SessionMaxLifetime</c> after its sign-in: past either a refresh is refused and deletes the cookie.
    /// </remarks>
    private static CookieOptions CookieOptions() => new()
    {
        HttpOnly = true,
        // Browsers accept Secure (and __Host-) cookies from http://localhost, so development needs no exception.
        Secure = true,
        SameSite = SameSiteMode.Strict,
        // What the __Host- prefix requires (with no Domain): the browser sends it everywhere on the host, and the
        // gateway removes it from every request but the refresh route's.
        Path = "/",
        IsEssential = true,
    };

    /// <summary>The cookie as it was set before the prefix, for deleting it (a deletion must name its path).</summary>
    private static CookieOptions LegacyCookieOptions() => new(CookieOptions()) { Path = RefreshCookies.LegacyPath };

    /// <summary>Readable by the SPA's pages (every path, not HttpOnly); as long-lived as the refresh cookie, no longer.</summary>
    private static CookieOptions MarkerCookieOptions() => new(CookieOptions()) { HttpOnly = false };

    private static ProblemHttpResult SessionEnded(string detail) =>
        TypedResults.Problem(statusCode: 401, title: "Session ended", detail: detail);

    /// <summary>Too many password guesses (a sign-in or a current-password check) for the account or from the address.</summary>
    internal static ProblemHttpResult Throttled(HttpContext http, int retryAfterSeconds)
    {
        http.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: 429, title: "Too many sign-in attempts",
            detail: $"Too many password attempts for this account or from this address. Try again in {retryAfterSeconds} second(s).");
    }

    internal static ProblemHttpResult NotCounted(HttpContext http) => Unavailable(http, "Sign-in briefly unavailable",
        "This attempt could not be counted against the account's sign-in limits in time, so the password was not checked. Try again in a few seconds.");

    internal static ProblemHttpResult Busy(HttpContext http) => Unavailable(http, "Too many sign-ins at once",
        "The service is checking too many passwords right now. Try again in a few seconds.");

    private static ProblemHttpResult Unavailable(HttpContext http, string title, string detail)
    {
        http.Response.Headers.RetryAfter = "2";
        return TypedResults.Problem(statusCode: 503, title: title, detail: detail);
    }
}
