using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Shop.ServiceDefaults;

namespace Shop.Gateway.RateLimiting;

/// <summary>
/// Whose request it is, by a bearer token whose signature the gateway has checked (ServiceDefaults'
/// <c>AddShopTokenValidation</c>: JWKS, ES256, typ, issuer, audience, lifetime). A token that passed is
/// remembered until it expires or for <c>Jwt:SigningKeysRefreshInterval</c>, whichever is sooner, so each one costs
/// a single ES256 check per interval and gateway process rather than one per request; a shopper sends many requests
/// with one token.
/// </summary>
public sealed class TokenUsers(IOptions<TokenCheckOptions> tokenCheck, TimeProvider clock) : IDisposable
{
    /// <summary>Enough for every token in use within one access-token lifetime; beyond it, a token is checked again.</summary>
    public const int CacheEntries = 20_000;

    private readonly MemoryCache _validated = new(new MemoryCacheOptions { SizeLimit = CacheEntries, Clock = new CacheClock(clock) });

    // A token's exp is its signer's choice: one signed with a leaked key may say years. Checked again at most this long
    // after its last check, such a token is refused once this process has fetched Users' keys without it.
    private readonly TimeSpan _rememberedAtMost = tokenCheck.Value.SigningKeysRefreshInterval;

    /// <summary>
    /// The answer without I/O, when there is one: true with null for a request without a bearer token,
    /// true with the <c>sub</c> for a token already checked; false when the token still needs its check.
    /// </summary>
    public bool TryGetKnownUser(HttpContext context, out string? sub)
    {
        sub = null;
        return BearerToken(context) is not { } token || _validated.TryGetValue(token, out sub);
    }

    /// <summary>
    /// The token's <c>sub</c> (null when there is no bearer token or it is not valid), and whether the token failed its
    /// check for a fault of its own (forged, expired): not when it failed only for want of its key while this process could
    /// not fetch or read Users' signing keys.
    /// </summary>
    public async ValueTask<(string? Sub, bool Refused)> UserAsync(HttpContext context)
    {
        if (BearerToken(context) is not { } token)
        {
            return (null, false);
        }
        if (_validated.TryGetValue(token, out string? known))
        {
            return (known, false);
        }
        var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (!result.Succeeded
            || result.Principal.FindFirstValue("sub") is not { Length: > 0 } sub
            || !long.TryParse(result.Principal.FindFirstValue("exp"), NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return (null, !context.FailedForWantOfSigningKeys(result.Failure));
        }
        var expiry = DateTimeOffset.FromUnixTimeSeconds(expires);
        var checkAgain = clock.GetUtcNow() + _rememberedAtMost;
        _validated.Set(token, sub, new MemoryCacheEntryOptions { AbsoluteExpiration = expiry < checkAgain ? expiry : checkAgain, Size = 1 });
        return (sub, false);
    }

    public void Dispose() => _validated.Dispose();

    private static string? BearerToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>The cache's expiry read from the same clock that set it.</summary>
    private sealed class CacheClock(TimeProvider clock) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => clock.GetUtcNow();
    }
}
