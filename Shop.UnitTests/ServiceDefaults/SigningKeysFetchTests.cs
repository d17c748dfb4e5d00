using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// A service fetches Users' signing keys on the path of the request whose token needs them (the first after
/// <c>Jwt:SigningKeysRefreshInterval</c>, or one with a key id not seen yet): while Users is down, that shopper's request
/// waits for the fetch. It gets one attempt, bounded by <c>Jwt:SigningKeysFetchTimeout</c>: no retries, whatever the
/// defaults give every other HttpClient (<c>AddServiceDefaults</c>, as the services call it). The JWKS is a real loopback
/// HTTP server that answers 503, or never answers.
/// </summary>
public sealed class SigningKeysFetchTests
{
    private static readonly ECDsaSecurityKey UsersKey = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "users-key" };

    [Fact]
    public async Task A_token_check_while_users_answers_503_makes_one_attempt_to_fetch_the_keys()
    {
        var attempts = 0;
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () =>
        {
            Interlocked.Increment(ref attempts);
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }));
        await using var service = Service(LoopbackApp.Address(users));

        Assert.Equal((false, true), await CheckAsync(service));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_token_check_while_users_does_not_answer_gives_up_after_the_fetch_timeout()
    {
        var attempts = 0;
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, async (HttpContext http) =>
        {
            Interlocked.Increment(ref attempts);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, TestContext.Current.CancellationToken);
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }));
        await using var service = Service(LoopbackApp.Address(users), fetchTimeout: "00:00:01");

        Assert.Equal((false, true), await CheckAsync(service));

        Assert.Equal(1, attempts);
        // Given up by the fetch's own timeout, not by the 10 s per attempt (or 30 s in all) of the defaults' pipeline. A Debug
        // line: the outage is said once by OutageLog when a request is refused for it (UsersOutageNameTests).
        var failure = Assert.Single(service.Services.GetFakeLogCollector().GetSnapshot(), r => r.Category!.EndsWith("SigningKeysReach", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Debug, failure.Level);
        Assert.Contains("within 00:00:01 (Jwt:SigningKeysFetchTimeout)", failure.Message);
    }

    /// <summary>
    /// A fetch answered, but not with a key set (Jwt:JwksBaseAddress pointing at something else that answers 200, such as
    /// the SPA's index page): not an outage, which ends by itself and is said once by OutageLog, but a fault only an
    /// operator ends, said once as a Warning of its own with what was wrong, however many fetches meet it.
    /// </summary>
    [Fact]
    public async Task A_fetch_answered_with_something_that_is_not_a_key_set_is_one_warning_saying_so()
    {
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath,
            () => Results.Text("<!doctype html><title>Shop</title>", "text/html")));
        await using var service = Service(LoopbackApp.Address(users));
        var keys = (ConfigurationManager<OpenIdConnectConfiguration>)service.Services
            .GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager!;
        keys.RefreshInterval = TimeSpan.FromSeconds(1);

        Assert.False((await CheckAsync(service)).Accepted);
        keys.RequestRefresh();
        Assert.False((await CheckAsync(service)).Accepted);

        var warning = Assert.Single(service.Services.GetFakeLogCollector().GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Category!.EndsWith("SigningKeysReach", StringComparison.Ordinal));
        Assert.Contains("not a key set", warning.Message);
        Assert.Contains("Jwt:JwksBaseAddress", warning.Message);
    }

    /// <summary>
    /// Users recreated at another address (compose recreates its container; the name resolves anew) must be reached at
    /// the new one: a fetch after the client's handler lifetime (IHttpClientFactory's, 2 min by default; 1 s here) opens
    /// a new connection, which resolves the name again, rather than reusing the first one for the life of the process.
    /// The JWKS counts the connections its fetches arrive on.
    /// </summary>
    [Fact]
    public async Task A_fetch_after_the_clients_handler_lifetime_arrives_on_a_new_connection()
    {
        var connections = new ConcurrentDictionary<string, int>();
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, (HttpContext http) =>
        {
            connections.AddOrUpdate(http.Connection.Id, 1, (_, fetches) => fetches + 1);
            return Results.Text($$"""{"keys":[{{AccessTokens.JwksEntry(UsersKey)}}]}""", "application/json");
        }));
        await using var service = Service(LoopbackApp.Address(users),
            services => services.AddHttpClient(ShopAuthentication.JwksHttpClient).SetHandlerLifetime(TimeSpan.FromSeconds(1)));
        var keys = (ConfigurationManager<OpenIdConnectConfiguration>)service.Services
            .GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager!;
        // IdentityModel's shortest interval between two requested fetches.
        keys.RefreshInterval = TimeSpan.FromSeconds(1);

        // Fetch again and again, as unknown key ids would make it, until a fetch arrives on a second connection (or 20 s pass).
        var bound = Stopwatch.StartNew();
        while (connections.Count < 2 && bound.Elapsed < TimeSpan.FromSeconds(20))
        {
            keys.RequestRefresh();
            await keys.GetConfigurationAsync(TestContext.Current.CancellationToken);
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.True(connections.Count >= 2,
            $"every fetch for {bound.Elapsed.TotalSeconds:0} s reused the first connection ({string.Join(", ", connections.Values)} fetches): a recreated Users would not be looked up again");
    }

    [Fact]
    public void A_fetch_timeout_that_is_not_positive_stops_the_start_naming_the_setting()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Jwt:SigningKeysFetchTimeout"] = "00:00:00";

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => builder.AddShopTokenValidation());

        Assert.Contains("Jwt:SigningKeysFetchTimeout", refused.Message);
    }

    /// <summary>A service as Orders and Inventory build theirs: the shared defaults, then the token check.</summary>
    private static WebApplication Service(string jwksBaseAddress, string? fetchTimeout = null) => Service(jwksBaseAddress, _ => { }, fetchTimeout);

    private static WebApplication Service(string jwksBaseAddress, Action<IServiceCollection> services, string? fetchTimeout = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Jwt:JwksBaseAddress"] = jwksBaseAddress;
        if (fetchTimeout is not null)
        {
            builder.Configuration["Jwt:SigningKeysFetchTimeout"] = fetchTimeout;
        }
        builder.Logging.ClearProviders().AddFakeLogging().AddFilter("Shop.ServiceDefaults", LogLevel.Debug);
        builder.AddServiceDefaults();
        builder.AddShopTokenValidation();
        services(builder.Services);
        return builder.Build();
    }

    /// <summary>Whether a token signed with Users' key was accepted, and whether the service then says Users' keys are unreachable.</summary>
    private static async Task<(bool Accepted, bool KeysUnreachable)> CheckAsync(WebApplication service)
    {
        await using var scope = service.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Authorization = "Bearer " + AccessTokens.Sign(UsersKey);
        var accepted = (await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme)).Succeeded;
        return (accepted, context.SigningKeysUnreachable());
    }
}
