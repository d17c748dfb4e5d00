using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Caching.Memory;
using Shop.ServiceDefaults;

namespace Shop.Gateway.RateLimiting;

/// <summary>
/// Whose request it is, by a bearer token whose signature the gateway has checked (ServiceDefaults'
/// <c>AddShopTokenValidation</c>: JWKS, ES256, typ, issuer, audience, lifetime). A token that passed is
/// remembered until it expires, so each one costs a single ES256 check per gateway process rather than one
/// per request; a shopper sends many requests with one token.
/// </summary>
public sealed class TokenUsers(IMemoryCache validated)
{
    /// <summary>Enough for every token in use within one access-token lifetime; beyond it, a token is checked again.</summary>
    public const int CacheEntries = 20_000;

    /// <summary>
    /// The answer without I/O, when there is one: true with null for a request without a bearer token,
    /// true with the <c>sub</c> for a token already checked; false when the token still needs its check.
    /// </summary>
    public bool TryGetKnownUser(HttpContext context, out string? sub)
    {
        sub = null;
        return BearerToken(context) is not { } token || validated.TryGetValue(token, out sub);
    }

    /// <summary>
    /// The token's <c>sub</c> (null when there is no bearer token or it is not valid), and whether the token failed its
    /// check for a fault of its own (forged, expired): not when this process could not fetch Users' signing keys.
    /// </summary>
    public async ValueTask<(string? Sub, bool Refused)> UserAsync(HttpContext context)
    {
        if (BearerToken(context) is not { } token)
        {
            return (null, false);
        }
        if (validated.TryGetValue(token, out string? known))
        {
            return (known, false);
        }
        var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (!result.Succeeded
            || result.Principal.FindFirstValue("sub") is not { Length: > 0 } sub
            || !long.TryParse(result.Principal.FindFirstValue("exp"), NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return (null, !context.SigningKeysUnreachable());
        }
        validated.Set(token, sub, new MemoryCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.FromUnixTimeSeconds(expires), Size = 1 });
        return (sub, false);
    }

    private static string? BearerToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}
