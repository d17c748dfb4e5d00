using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// The services' token validation (ServiceDefaults' <c>AddShopTokenValidation</c>, as configured for a real service)
/// verifies a token's ES256 signature once, and still applies every other check to every request.
/// </summary>
public sealed class VerifiedSignatureCacheTests : IDisposable
{
    private readonly ECDsaSecurityKey _key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "current" };
    private readonly IHost _host;
    private readonly TokenValidationParameters _parameters;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public VerifiedSignatureCacheTests()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddShopTokenValidation([_key]);
        _host = builder.Build();
        _parameters = _host.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>()
            .Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
    }

    private long Verifications => Assert.IsType<VerifiedSignatureCache>(_parameters.CryptoProviderFactory).Verifications;

    [Fact]
    public async Task A_token_sent_again_is_not_verified_again()
    {
        var token = Token(DateTime.UtcNow.AddMinutes(15));

        for (var i = 0; i < 3; i++)
        {
            var result = await _handler.ValidateTokenAsync(token, _parameters);
            Assert.True(result.IsValid, result.Exception?.Message);
            Assert.Equal("42", result.ClaimsIdentity.FindFirst("sub")?.Value);
        }

        Assert.Equal(1, Verifications);
    }

    [Fact]
    public async Task A_changed_signature_is_verified_and_refused_every_time()
    {
        var token = Token(DateTime.UtcNow.AddMinutes(15));
        Assert.True((await _handler.ValidateTokenAsync(token, _parameters)).IsValid);
        // A character in the middle of the signature: the last one may only carry padding bits.
        var at = token.LastIndexOf('.') + 20;
        var forged = token[..at] + (token[at] == 'A' ? 'B' : 'A') + token[(at + 1)..];

        for (var i = 0; i < 2; i++)
        {
            var result = await _handler.ValidateTokenAsync(forged, _parameters);
            Assert.False(result.IsValid);
            Assert.IsType<SecurityTokenInvalidSignatureException>(result.Exception);
        }

        Assert.Equal(3, Verifications);
    }

    [Fact]
    public async Task A_remembered_signature_does_not_outlive_its_token()
    {
        var token = Token(DateTime.UtcNow.AddMinutes(-5));
        var lifetimeUnchecked = _parameters.Clone();
        lifetimeUnchecked.ValidateLifetime = false;
        Assert.True((await _handler.ValidateTokenAsync(token, lifetimeUnchecked)).IsValid);

        var result = await _handler.ValidateTokenAsync(token, _parameters);

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenExpiredException>(result.Exception);
    }

    [Fact]
    public async Task A_remembered_token_is_refused_once_its_key_is_no_longer_published()
    {
        var result = await ValidateAgainAfterRemembering(rotated =>
            rotated.IssuerSigningKeys = [new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "next" }]);

        Assert.False(result.IsValid);
        Assert.IsAssignableFrom<SecurityTokenInvalidSignatureException>(result.Exception);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused_although_its_signature_is_remembered()
    {
        var result = await ValidateAgainAfterRemembering(otherApi => otherApi.ValidAudience = "another-api");

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenInvalidAudienceException>(result.Exception);
        Assert.Equal(1, Verifications);
    }

    /// <summary>A valid token is validated (and its signature remembered), then validated again with changed parameters.</summary>
    private async Task<TokenValidationResult> ValidateAgainAfterRemembering(Action<TokenValidationParameters> change)
    {
        var token = Token(DateTime.UtcNow.AddMinutes(15));
        Assert.True((await _handler.ValidateTokenAsync(token, _parameters)).IsValid);
        var changed = _parameters.Clone();
        change(changed);
        return await _handler.ValidateTokenAsync(token, changed);
    }

    private string Token(DateTime expires) => _handler.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = ShopAuthentication.Issuer,
        Audience = ShopAuthentication.Audience,
        TokenType = ShopAuthentication.AccessTokenType,
        Subject = new ClaimsIdentity([new Claim("sub", "42")]),
        IssuedAt = expires.AddMinutes(-15),
        NotBefore = expires.AddMinutes(-15),
        Expires = expires,
        SigningCredentials = new SigningCredentials(_key, ShopAuthentication.Algorithm),
    });

    public void Dispose() => _host.Dispose();
}
