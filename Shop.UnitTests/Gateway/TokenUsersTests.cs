using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.Gateway.RateLimiting;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Gateway;

/// <summary>
/// Whether a bearer token the gateway could not accept counts against its address's invalid-token budget
/// (<see cref="GatewayRateLimiter"/>): a forgery does; a token that failed only because Users' signing keys could not be
/// fetched or read does not, since it may be valid and the services answer it 503. The keys come over real HTTP: from a JWKS
/// served on a loopback port (or something else served there), or from a closed one.
/// </summary>
public sealed class TokenUsersTests
{
    private static readonly ECDsaSecurityKey UsersKey = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "users-key" };

    [Fact]
    public async Task A_token_signed_by_a_key_users_does_not_publish_is_refused_and_counted()
    {
        await using var users = await JwksServerAsync();
        var forged = AccessTokens.Sign(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "users-key" });

        Assert.Equal((null, true), await UserAsync(LoopbackApp.Address(users), forged));
    }

    [Fact]
    public async Task A_token_checked_while_users_signing_keys_cannot_be_fetched_is_refused_but_not_counted()
    {
        // Port 1 on loopback: a refused connection, as when Users is down.
        Assert.Equal((null, false), await UserAsync("http://127.0.0.1:1", AccessTokens.Sign(UsersKey)));
    }

    /// <summary>
    /// Users' keys fetched, but the answer held none (Jwt:JwksBaseAddress pointing elsewhere, an error page): the token
    /// cannot be checked, which is no fault of its own, and the services answer it 503.
    /// </summary>
    [Theory]
    [MemberData(nameof(AccessTokens.NotKeySets), MemberType = typeof(AccessTokens))]
    public async Task A_token_checked_while_the_answer_for_users_signing_keys_is_not_a_key_set_is_refused_but_not_counted(string document)
    {
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () => AccessTokens.Answer(document)));

        Assert.Equal((null, false), await UserAsync(LoopbackApp.Address(users), AccessTokens.Sign(UsersKey)));
    }

    /// <summary>
    /// While the keys read before stay in use (a refresh was answered with an error page), a token naming one of them but not
    /// signed with it is a forgery like any other: counted. Only a token whose key could not be had is not.
    /// </summary>
    [Fact]
    public async Task A_forged_token_naming_a_key_read_before_is_counted_while_a_refresh_reads_no_key_set()
    {
        var answer = $$"""{"keys":[{{AccessTokens.JwksEntry(UsersKey)}}]}""";
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () => AccessTokens.Answer(Volatile.Read(ref answer))));
        var builder = WebApplication.CreateBuilder();
        AccessTokens.UseJwksAt(builder.Configuration, LoopbackApp.Address(users));
        builder.Logging.ClearProviders();
        builder.AddShopTokenValidation();
        await using var gateway = builder.Build();
        using var tokenUsers = new TokenUsers(Options.Create(new TokenCheckOptions()), TimeProvider.System);
        Assert.Equal(("42", false), await UserAsync(gateway, tokenUsers, AccessTokens.Sign(UsersKey)));

        Volatile.Write(ref answer, "<!doctype html><title>502 Bad Gateway</title>");
        var keys = AccessTokens.SigningKeysOf(gateway);
        keys.RequestRefresh();
        await keys.GetConfigurationAsync(TestContext.Current.CancellationToken);

        var forged = AccessTokens.Sign(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = UsersKey.KeyId });
        Assert.Equal((null, true), await UserAsync(gateway, tokenUsers, forged));
        var newKey = AccessTokens.Sign(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "users-key-2" });
        Assert.Equal((null, false), await UserAsync(gateway, tokenUsers, newKey));
    }

    [Fact]
    public async Task A_token_signed_by_users_key_is_its_subjects_and_not_counted()
    {
        await using var users = await JwksServerAsync();

        Assert.Equal(("42", false), await UserAsync(LoopbackApp.Address(users), AccessTokens.Sign(UsersKey)));
    }

    /// <summary>
    /// A token's own <c>exp</c> is the signer's choice: one signed with a leaked key can say years. The gateway remembers a
    /// checked token no longer than <c>Jwt:SigningKeysRefreshInterval</c> (as configured), so the token is checked again,
    /// and refused once the gateway has fetched Users' keys without its key, as the services refuse it.
    /// </summary>
    [Fact]
    public async Task A_checked_token_is_remembered_no_longer_than_the_signing_keys_refresh_interval_however_late_it_expires()
    {
        await using var users = await JwksServerAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var builder = WebApplication.CreateBuilder();
        AccessTokens.UseJwksAt(builder.Configuration, LoopbackApp.Address(users));
        builder.Configuration["Jwt:SigningKeysRefreshInterval"] = "00:07:00";
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.AddShopTokenValidation();
        builder.AddGatewayRateLimiting();
        await using var gateway = builder.Build();
        var tokenUsers = gateway.Services.GetRequiredService<TokenUsers>();
        await using var scope = gateway.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Authorization = "Bearer " + AccessTokens.Sign(UsersKey, expires: DateTime.UtcNow.AddYears(5));
        Assert.Equal(("42", false), await tokenUsers.UserAsync(context));

        clock.Advance(TimeSpan.FromMinutes(7) - TimeSpan.FromSeconds(1));
        Assert.True(tokenUsers.TryGetKnownUser(context, out var sub));
        Assert.Equal("42", sub);

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(tokenUsers.TryGetKnownUser(context, out _), "a token was still taken as its subject's from memory past Jwt:SigningKeysRefreshInterval");
    }

    private static async Task<(string? Sub, bool Refused)> UserAsync(string jwksBaseAddress, string token)
    {
        var builder = WebApplication.CreateBuilder();
        AccessTokens.UseJwksAt(builder.Configuration, jwksBaseAddress);
        builder.Logging.ClearProviders();
        builder.AddShopTokenValidation();
        await using var gateway = builder.Build();
        using var tokenUsers = new TokenUsers(Options.Create(new TokenCheckOptions()), TimeProvider.System);
        return await UserAsync(gateway, tokenUsers, token);
    }

    private static async Task<(string? Sub, bool Refused)> UserAsync(WebApplication gateway, TokenUsers tokenUsers, string token)
    {
        await using var scope = gateway.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Authorization = "Bearer " + token;
        return await tokenUsers.UserAsync(context);
    }

    /// <summary>Users' JWKS document, with <see cref="UsersKey"/>'s public half, on a free loopback port.</summary>
    private static Task<WebApplication> JwksServerAsync() => LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath,
        () => Results.Text($$"""{"keys":[{{AccessTokens.JwksEntry(UsersKey)}}]}""", "application/json")));
}
