using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// A JWT key rotation as docs/deploy.md has an operator do it: Users restarts publishing the new key beside the old one
/// and signs with the new one. A service that fetched Users' JWKS before (ServiceDefaults' <c>AddShopTokenValidation</c>,
/// the keys over real HTTP from a loopback JWKS) must accept the first token signed with the new key, not answer it 401
/// and only learn the key for the next request. The services wait for that fetch because their runtimeconfig.json says
/// so (Directory.Build.props, checked by <see cref="ServiceRuntimeConfigTests"/>), as this process's does.
/// </summary>
public sealed class SigningKeyRotationTests
{
    private static ECDsaSecurityKey NewKey(string id) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = id };

    [Fact]
    public async Task The_first_token_signed_with_a_key_users_published_since_the_last_fetch_is_accepted()
    {
        var current = NewKey("current");
        var next = NewKey("next");
        string[] published = [AccessTokens.JwksEntry(current)];
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath,
            () => Results.Text($$"""{"keys":[{{string.Join(",", published)}}]}""", "application/json")));
        await using var service = await ServiceAsync(LoopbackApp.Address(users));

        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(current)));
        // Users recreated mid-rotation: it publishes both keys and signs with the new one.
        published = [AccessTokens.JwksEntry(next), AccessTokens.JwksEntry(current)];

        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(next)), "the first token signed with the newly published key was refused");
        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(current)));
    }

    [Fact]
    public async Task Tokens_with_made_up_key_ids_fetch_the_jwks_again_at_most_once_per_refresh_interval()
    {
        var current = NewKey("current");
        var fetches = 0;
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () =>
        {
            Interlocked.Increment(ref fetches);
            return Results.Text($$"""{"keys":[{{AccessTokens.JwksEntry(current)}}]}""", "application/json");
        }));
        await using var service = await ServiceAsync(LoopbackApp.Address(users));
        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(current)));

        for (var i = 0; i < 5; i++)
        {
            Assert.False(await AcceptsAsync(service, AccessTokens.Sign(NewKey($"made-up-{i}"))));
        }

        // The first fetch, and one more for the first unknown key id; the rest wait for the 30 s refresh interval.
        Assert.Equal(2, fetches);
    }

    private static async Task<WebApplication> ServiceAsync(string jwksBaseAddress)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Jwt:JwksBaseAddress"] = jwksBaseAddress;
        builder.Logging.ClearProviders();
        builder.AddShopTokenValidation();
        return builder.Build();
    }

    private static async Task<bool> AcceptsAsync(WebApplication service, string token)
    {
        await using var scope = service.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Authorization = "Bearer " + token;
        return (await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme)).Succeeded;
    }
}
