using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Shop.UnitTests;

/// <summary>Access tokens as Users signs them, and a key's entry as Users' JWKS lists it, for tests that check tokens.</summary>
internal static class AccessTokens
{
    /// <summary>An ES256 access token for subject 42, valid for 10 minutes (or until <paramref name="expires"/>), signed with <paramref name="key"/>.</summary>
    public static string Sign(SecurityKey key, DateTime? expires = null) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        TokenType = ShopAuthentication.AccessTokenType,
        Issuer = ShopAuthentication.Issuer,
        Audience = ShopAuthentication.Audience,
        Expires = expires ?? DateTime.UtcNow.AddMinutes(10),
        Subject = new ClaimsIdentity([new Claim("sub", "42")]),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
    });

    /// <summary>
    /// Points a service's token check at Users' JWKS on <paramref name="jwksBaseAddress"/>, and gives the fetch 30 s rather
    /// than the default 5 s: a cold process's first fetch on a loaded test machine has taken longer (load 35 on two cores),
    /// and these tests are about which keys are accepted, not how long a fetch may take (<c>SigningKeysFetchTests</c> is).
    /// </summary>
    public static void UseJwksAt(IConfiguration configuration, string jwksBaseAddress)
    {
        configuration["Jwt:JwksBaseAddress"] = jwksBaseAddress;
        configuration["Jwt:SigningKeysFetchTimeout"] = "00:00:30";
    }

    /// <summary>The key's public half as one entry of Users' JWKS document (JSON).</summary>
    public static string JwksEntry(ECDsaSecurityKey key)
    {
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(key.ECDsa.ExportParameters(false))) { KeyId = key.KeyId });
        return System.Text.Json.JsonSerializer.Serialize(new { kty = jwk.Kty, use = "sig", alg = ShopAuthentication.Algorithm, kid = jwk.Kid, crv = jwk.Crv, x = jwk.X, y = jwk.Y });
    }

    /// <summary>
    /// Answers a JWKS fetch can meet that hold no key to check Users' tokens with: Jwt:JwksBaseAddress pointing at the SPA
    /// or another service, a proxy's error page sent as 200, a key set emptied, keys of another type (an RSA key under the
    /// key id Users' tokens name).
    /// </summary>
    public static TheoryData<string> NotKeySets => new()
    {
        "<!doctype html><title>Shop</title>",
        """{"status":"Healthy"}""",
        """{"keys":[]}""",
        $$"""{"keys":[{"kty":"oct","kid":"users-key","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},{{RsaEntry("users-key")}}]}""",
    };

    /// <summary>The token check's fetcher of Users' keys in <paramref name="service"/>, made to fetch again on request after 1 s.</summary>
    public static ConfigurationManager<OpenIdConnectConfiguration> SigningKeysOf(IHost service)
    {
        var keys = (ConfigurationManager<OpenIdConnectConfiguration>)service.Services
            .GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager!;
        // IdentityModel's shortest interval between two requested fetches.
        keys.RefreshInterval = TimeSpan.FromSeconds(1);
        return keys;
    }

    /// <summary><paramref name="document"/> as a JWKS fetch gets it: HTML as a page, anything else as JSON.</summary>
    public static IResult Answer(string document) => Results.Text(document, document.StartsWith('<') ? "text/html" : "application/json");

    private static string RsaEntry(string keyId)
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(RSA.Create(2048).ExportParameters(false)) { KeyId = keyId });
        return System.Text.Json.JsonSerializer.Serialize(new { kty = jwk.Kty, use = "sig", kid = jwk.Kid, n = jwk.N, e = jwk.E });
    }
}
