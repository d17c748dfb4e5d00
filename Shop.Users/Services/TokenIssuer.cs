using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.Users.Data;

namespace Shop.Users.Services;

public sealed class JwtOptions
{
    /// <summary>Base64 PKCS#8 P-256 private key (the AppHost's <c>jwt-signing-key</c> secret).</summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// The key being retired during a rotation (same format): its public half stays in the JWKS, so
    /// tokens it signed keep verifying until they expire; it never signs.
    /// </summary>
    public string? PreviousSigningKey { get; set; }

    /// <summary>Access token lifetime: short, because refresh tokens carry the session.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an unused refresh token (and so an idle session) lasts.</summary>
    public TimeSpan RefreshLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// How long a session lasts from its sign-in however often it is refreshed (ASVS 5.0 V7.3.2): a stolen refresh
    /// token used regularly would otherwise keep its session for ever. 30 days, the most NIST SP 800-63B (AAL1) allows
    /// between authentications, so a shopper who visits often signs in about once a month.
    /// </summary>
    public TimeSpan SessionMaxLifetime { get; set; } = TimeSpan.FromDays(30);

}

/// <summary>
/// Refuses, naming the setting, a lifetime that is not positive (Users would otherwise start and sign everyone in
/// with tokens born expired, every request a 401, or sessions that end at once) and a signing key that is missing
/// where one is required or is not a key.
/// </summary>
/// <param name="signingKeyRequired">Outside Development: a throw-away key there would sign tokens no restart or other replica accepts.</param>
public sealed class JwtOptionsCheck(bool signingKeyRequired) : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        var failures = new List<string>();
        if (options.Lifetime <= TimeSpan.Zero)
        {
            failures.Add($"Jwt:Lifetime is {options.Lifetime}; give how long an access token lasts, more than zero (default 00:10:00).");
        }
        if (options.RefreshLifetime <= TimeSpan.Zero)
        {
            failures.Add($"Jwt:RefreshLifetime is {options.RefreshLifetime}; give how long an unused sign-in session lasts, more than zero (default 14.00:00:00).");
        }
        // Shorter than the idle limit, the idle limit would never apply: most likely one of the two is a typo.
        if (options.SessionMaxLifetime < options.RefreshLifetime)
        {
            failures.Add($"Jwt:SessionMaxLifetime is {options.SessionMaxLifetime}, shorter than Jwt:RefreshLifetime ({options.RefreshLifetime}); give how long a session lasts from its sign-in however often it is refreshed, at least Jwt:RefreshLifetime (default 30.00:00:00), and lower Jwt:RefreshLifetime too for shorter sessions.");
        }
        if (string.IsNullOrWhiteSpace(options.SigningKey) && signingKeyRequired)
        {
            failures.Add("Jwt:SigningKey is not set, and it is required outside Development; give the AppHost's jwt-signing-key parameter (Jwt__SigningKey).");
        }
        failures.AddRange(KeyProblem(nameof(JwtOptions.SigningKey), options.SigningKey));
        failures.AddRange(KeyProblem(nameof(JwtOptions.PreviousSigningKey), options.PreviousSigningKey));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static IEnumerable<string> KeyProblem(string setting, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            yield break;
        }
        string? problem;
        try
        {
            using var key = TokenIssuer.ImportKey(value);
            problem = key.KeySize == 256 ? null : $"a {key.KeySize}-bit key";
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            problem = e.Message;
        }
        if (problem is not null)
        {
            // The value is a secret: the message says what is wrong with it, never what it is.
            yield return $"Jwt:{setting} is not a base64 PKCS#8 P-256 private key ({problem}); give one as the AppHost's jwt-signing-key parameter makes it.";
        }
    }
}

/// <summary>Signs ES256 access tokens (typ <c>at+jwt</c>) and publishes the matching public keys as a JWKS.</summary>
public sealed class TokenIssuer
{
    private readonly ECDsaSecurityKey _privateKey;
    private readonly JsonWebTokenHandler _handler = new();

    public TokenIssuer(ECDsa key, TimeSpan lifetime, ECDsa? previousKey = null)
    {
        Lifetime = lifetime;
        var publicKey = PublicKeyOf(key);
        _privateKey = new ECDsaSecurityKey(key) { KeyId = publicKey.KeyId };
        PublicKeys = previousKey is null ? [publicKey] : [publicKey, PublicKeyOf(previousKey)];
    }

    public TimeSpan Lifetime { get; }

    /// <summary>The signing key's public half first, then the retiring key's during a rotation.</summary>
    public IReadOnlyList<ECDsaSecurityKey> PublicKeys { get; }

    private static ECDsaSecurityKey PublicKeyOf(ECDsa key)
    {
        var publicKey = new ECDsaSecurityKey(ECDsa.Create(key.ExportParameters(includePrivateParameters: false)));
        publicKey.KeyId = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(publicKey).ComputeJwkThumbprint());
        return publicKey;
    }

    /// <summary>An ES256 key as <c>Jwt:SigningKey</c> holds it: base64 PKCS#8.</summary>
    internal static ECDsa ImportKey(string base64)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(base64.Trim()), out _);
        return key;
    }

    /// <param name="options">Checked by <see cref="JwtOptionsCheck"/>, which requires a signing key outside Development.</param>
    public static TokenIssuer Create(JwtOptions options, ILogger logger)
    {
        var previous = string.IsNullOrWhiteSpace(options.PreviousSigningKey) ? null : ImportKey(options.PreviousSigningKey);
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            return new TokenIssuer(ImportKey(options.SigningKey), options.Lifetime, previous);
        }
        logger.LogWarning("No Jwt:SigningKey configured: using a throw-away key; tokens will not survive a restart.");
        return new TokenIssuer(ECDsa.Create(ECCurve.NamedCurves.nistP256), options.Lifetime, previous);
    }

    /// <summary>An access token for the account as it is now, in sign-in session <paramref name="sessionId"/>.</summary>
    public (string Token, int ExpiresIn) Issue(User user, Guid sessionId)
    {
        var now = DateTime.UtcNow;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = ShopAuthentication.AccessTokenType,
            Issuer = ShopAuthentication.Issuer,
            Audience = ShopAuthentication.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.Add(Lifetime),
            Subject = new ClaimsIdentity(
            [
                new Claim("sub", user.Id.ToString()),
                new Claim("email", user.Email),
                new Claim("name", user.Name),
                new Claim(ShopAuthentication.RoleClaim, user.Role),
                new Claim(SecurityStamps.StampClaim, user.SecurityStamp.ToString(), ClaimValueTypes.Integer32),
                new Claim(SecurityStamps.SessionClaim, sessionId.ToString("N")),
                new Claim("jti", Guid.NewGuid().ToString("N")),
            ]),
            SigningCredentials = new SigningCredentials(_privateKey, SecurityAlgorithms.EcdsaSha256),
        });
        return (token, (int)Lifetime.TotalSeconds);
    }

    /// <summary>
    /// The sign-in session an access token of ours names, whether or not the token is still accepted (expired,
    /// or issued before the account changed): enough to end that session, which only a holder of one of its
    /// tokens can name. Null for a token this service did not sign.
    /// </summary>
    public async Task<Guid?> SessionOfAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = ShopAuthentication.Issuer,
            ValidAudience = ShopAuthentication.Audience,
            ValidAlgorithms = [ShopAuthentication.Algorithm],
            ValidTypes = [ShopAuthentication.AccessTokenType],
            IssuerSigningKeys = PublicKeys,
            RequireSignedTokens = true,
            ValidateLifetime = false,
        });
        return result.IsValid && result.Claims.TryGetValue(SecurityStamps.SessionClaim, out var sid) && Guid.TryParse(sid as string, out var id) ? id : null;
    }

    /// <summary>The RFC 7517 key set: only public members, ES256 pinned.</summary>
    public object Jwks() => new Dictionary<string, object>
    {
        ["keys"] = PublicKeys.Select(key =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(key);
            return new Dictionary<string, string>
            {
                ["kty"] = jwk.Kty,
                ["crv"] = jwk.Crv,
                ["x"] = jwk.X,
                ["y"] = jwk.Y,
                ["kid"] = key.KeyId,
                ["use"] = "sig",
                ["alg"] = SecurityAlgorithms.EcdsaSha256,
            };
        }).ToArray(),
    };
}
