using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.Users.Data;

namespace Shop.Users.Services;

public sealed class JwtOptions
{
    /// <summary>Base64 PKCS#8 P-256 private key (the AppHost's <c>jwt-signing-key</c> secret).</summary>
    public string? SigningKey { get; set; }
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(60);
}

/// <summary>Signs ES256 access tokens and publishes the matching public key as a JWKS.</summary>
public sealed class TokenIssuer
{
    private readonly ECDsaSecurityKey _privateKey;
    private readonly JsonWebTokenHandler _handler = new();
    private readonly TimeSpan _lifetime;

    public TokenIssuer(ECDsa key, TimeSpan lifetime)
    {
        _lifetime = lifetime;
        var publicKey = new ECDsaSecurityKey(ECDsa.Create(key.ExportParameters(includePrivateParameters: false)));
        var keyId = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(publicKey).ComputeJwkThumbprint());
        publicKey.KeyId = keyId;
        _privateKey = new ECDsaSecurityKey(key) { KeyId = keyId };
        PublicKey = publicKey;
    }

    public ECDsaSecurityKey PublicKey { get; }

    public static ECDsa LoadKey(JwtOptions options, IHostEnvironment environment, ILogger logger)
    {
        var key = ECDsa.Create();
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(options.SigningKey.Trim()), out _);
            return key;
        }
        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException("Jwt:SigningKey is required outside Development.");
        }
        logger.LogWarning("No Jwt:SigningKey configured: using a throw-away key; tokens will not survive a restart.");
        return ECDsa.Create(ECCurve.NamedCurves.nistP256);
    }

    public (string Token, int ExpiresIn) Issue(User user)
    {
        var now = DateTime.UtcNow;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Microsoft.Extensions.Hosting.ShopAuthentication.Issuer,
            Audience = Microsoft.Extensions.Hosting.ShopAuthentication.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.Add(_lifetime),
            Subject = new ClaimsIdentity(
            [
                new Claim("sub", user.Id.ToString()),
                new Claim("email", user.Email),
                new Claim("name", user.Name),
                new Claim("role", user.Role),
                new Claim("jti", Guid.NewGuid().ToString("N")),
            ]),
            SigningCredentials = new SigningCredentials(_privateKey, SecurityAlgorithms.EcdsaSha256),
        });
        return (token, (int)_lifetime.TotalSeconds);
    }

    /// <summary>The RFC 7517 key set: only public members, ES256 pinned.</summary>
    public object Jwks()
    {
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(PublicKey);
        return new Dictionary<string, object>
        {
            ["keys"] = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = jwk.Kty,
                    ["crv"] = jwk.Crv,
                    ["x"] = jwk.X,
                    ["y"] = jwk.Y,
                    ["kid"] = PublicKey.KeyId,
                    ["use"] = "sig",
                    ["alg"] = SecurityAlgorithms.EcdsaSha256,
                },
            },
        };
    }
}
