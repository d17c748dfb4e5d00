using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
        ECDsaSecurityKey[] published = [current];
        await using var users = await UsersAsync(() => published);
        await using var service = await ServiceAsync(LoopbackApp.Address(users));

        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(current)));
        // Users recreated mid-rotation: it publishes both keys and signs with the new one.
        published = [next, current];

        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(next)), "the first token signed with the newly published key was refused");
        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(current)));
    }

    [Fact]
    public async Task Tokens_with_made_up_key_ids_fetch_the_jwks_again_at_most_once_per_refresh_interval()
    {
        var current = NewKey("current");
        var fetches = 0;
        await using var users = await UsersAsync(() =>
        {
            Interlocked.Increment(ref fetches);
            return [current];
        });
        await using var service = await ServiceAsync(LoopbackApp.Address(users));
        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(current)));

        for (var i = 0; i < 5; i++)
        {
            Assert.False(await AcceptsAsync(service, AccessTokens.Sign(NewKey($"made-up-{i}"))));
        }

        // The first fetch, and one more for the first unknown key id; the rest wait for the 30 s refresh interval.
        Assert.Equal(2, fetches);
    }

    /// <summary>
    /// An urgent rotation (docs/deploy.md: the key leaked) has Users stop publishing a key the services have used. Once a
    /// service has fetched the keys again, a token signed with the removed key is refused: IdentityModel would otherwise
    /// check it against the keys it fetched before (its "last known good" configurations, kept for an hour).
    /// </summary>
    [Fact]
    public async Task A_key_users_stopped_publishing_is_refused_once_the_service_fetched_the_keys_again()
    {
        var leaked = NewKey("leaked");
        var next = NewKey("next");
        ECDsaSecurityKey[] published = [leaked];
        await using var users = await UsersAsync(() => published);
        await using var service = await ServiceAsync(LoopbackApp.Address(users));
        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(leaked)));

        // Users recreated with a new key and without the leaked one; the first token signed with the new key makes the
        // service fetch the keys again, as the refresh interval or a restart would.
        published = [next];
        Assert.True(await AcceptsAsync(service, AccessTokens.Sign(next)));

        Assert.False(await AcceptsAsync(service, AccessTokens.Sign(leaked)), "a token signed with a key Users no longer publishes was accepted");
    }

    /// <summary>How long a removed key can keep working in a service that was not restarted: <c>Jwt:SigningKeysRefreshInterval</c>.</summary>
    [Theory]
    [InlineData(null, 5 * 60)]
    [InlineData("00:12:30", 12 * 60 + 30)]
    public async Task A_service_fetches_the_signing_keys_again_every_configured_interval(string? setting, int seconds)
    {
        await using var service = await ServiceAsync("http://users/", setting);

        var keys = service.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager;

        Assert.Equal(TimeSpan.FromSeconds(seconds), Assert.IsAssignableFrom<BaseConfigurationManager>(keys).AutomaticRefreshInterval);
    }

    [Fact]
    public void A_refresh_interval_identitymodel_would_refuse_stops_the_start_naming_the_setting()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Jwt:SigningKeysRefreshInterval"] = "00:04:59";

        var refused = Assert.Throws<OptionsValidationException>(() => builder.AddShopTokenValidation());

        Assert.Contains("Jwt:SigningKeysRefreshInterval", refused.Message);
        Assert.Contains("00:05:00", refused.Message);
    }

    /// <summary>Users' JWKS over real HTTP, publishing the keys <paramref name="published"/> gives at each fetch.</summary>
    private static Task<WebApplication> UsersAsync(Func<ECDsaSecurityKey[]> published) =>
        LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () =>
            Results.Text($$"""{"keys":[{{string.Join(",", published().Select(AccessTokens.JwksEntry))}}]}""", "application/json")));

    private static async Task<WebApplication> ServiceAsync(string jwksBaseAddress, string? refreshInterval = null)
    {
        var builder = WebApplication.CreateBuilder();
        AccessTokens.UseJwksAt(builder.Configuration, jwksBaseAddress);
        if (refreshInterval is not null)
        {
            builder.Configuration["Jwt:SigningKeysRefreshInterval"] = refreshInterval;
        }
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
