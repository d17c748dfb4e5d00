using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
    /// the SPA's index page): not an outage that ends by itself, but a fault only an operator ends, said once as a Warning
    /// of its own with what was wrong, however many fetches meet it.
    /// </summary>
    [Theory]
    [MemberData(nameof(AccessTokens.NotKeySets), MemberType = typeof(AccessTokens))]
    public async Task A_fetch_answered_with_something_that_is_not_a_key_set_is_one_warning_saying_so(string document)
    {
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () => AccessTokens.Answer(document)));
        await using var service = Service(LoopbackApp.Address(users));
        var keys = AccessTokens.SigningKeysOf(service);

        Assert.False((await CheckAsync(service)).Accepted);
        keys.RequestRefresh();
        Assert.False((await CheckAsync(service)).Accepted);

        var warning = Assert.Single(service.Services.GetFakeLogCollector().GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Category!.EndsWith("SigningKeysReach", StringComparison.Ordinal));
        Assert.Contains("not a key set", warning.Message);
        Assert.Contains("Jwt:JwksBaseAddress", warning.Message);
    }

    /// <summary>
    /// The shopper's side of the same fault: their token may well be valid, the service just has no key to check it with.
    /// Answered as when Users cannot be reached (503, Retry-After, try again), not 401 "sign in again", which a shopper
    /// obeys, only to be refused again. Orders as it answers a request, over HTTP.
    /// </summary>
    [Theory]
    [MemberData(nameof(AccessTokens.NotKeySets), MemberType = typeof(AccessTokens))]
    public async Task A_valid_token_checked_while_the_answer_is_not_a_key_set_is_answered_503_not_401(string document)
    {
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () => AccessTokens.Answer(document)));
        await using var service = await StartServiceAsync(LoopbackApp.Address(users));

        using var answer = await SignedInRequestAsync(service, AccessTokens.Sign(UsersKey));

        var body = await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)answer.StatusCode} {body}");
        Assert.Equal(ShopProblems.RetryAfterHeader, answer.Headers.RetryAfter?.ToString());
        Assert.Equal("A service this request depends on (users (the access tokens' signing keys)) is unavailable. Try again shortly.",
            JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        // An operator sees an outage of Users whose reason says what to fix, not a run of 401s.
        var outage = Assert.Single(service.Services.GetFakeLogCollector().GetSnapshot(), r => r.Category == typeof(OutageLog).FullName);
        Assert.StartsWith("Dependency unavailable: users (the answer from ", outage.Message);
        Assert.Contains("Jwt:JwksBaseAddress", outage.Message);
    }

    /// <summary>The other side of the line: with Users' key set read, a token Users did not sign is still the caller's fault.</summary>
    [Fact]
    public async Task A_token_not_signed_by_users_is_answered_401_when_the_key_set_is_read()
    {
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () => AccessTokens.Answer(UsersKeySet)));
        await using var service = await StartServiceAsync(LoopbackApp.Address(users));

        using var answer = await SignedInRequestAsync(service, AccessTokens.Sign(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = UsersKey.KeyId }));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Contains("signature is not valid", await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// A refresh (every Jwt:SigningKeysRefreshInterval) answered with something that is not a key set must not take away
    /// the keys read before: the shoppers signed in keep being served, and the Warning says what is wrong.
    /// </summary>
    [Theory]
    [MemberData(nameof(AccessTokens.NotKeySets), MemberType = typeof(AccessTokens))]
    public async Task Keys_read_before_stay_in_use_when_a_refresh_is_answered_with_something_that_is_not_a_key_set(string document)
    {
        var answer = UsersKeySet;
        await using var users = await LoopbackApp.StartAsync(app => app.MapGet(ShopAuthentication.JwksPath, () => AccessTokens.Answer(Volatile.Read(ref answer))));
        await using var service = Service(LoopbackApp.Address(users));
        var keys = AccessTokens.SigningKeysOf(service);
        Assert.Equal((true, false), await CheckAsync(service));

        Volatile.Write(ref answer, document);
        // The refresh a due interval makes, run now: its answer is read before the check below.
        keys.RequestRefresh();
        await keys.GetConfigurationAsync(TestContext.Current.CancellationToken);

        Assert.True((await CheckAsync(service)).Accepted, "a token signed with a key read before was refused after a refresh that read no key set");
        var warning = Assert.Single(service.Services.GetFakeLogCollector().GetSnapshot(), r => r.Level >= LogLevel.Warning);
        Assert.Contains("not a key set", warning.Message);
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
            return AccessTokens.Answer(UsersKeySet);
        }));
        await using var service = Service(LoopbackApp.Address(users),
            services => services.AddHttpClient(ShopAuthentication.JwksHttpClient).SetHandlerLifetime(TimeSpan.FromSeconds(1)));
        var keys = AccessTokens.SigningKeysOf(service);

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

    private static readonly string UsersKeySet = $$"""{"keys":[{{AccessTokens.JwksEntry(UsersKey)}}]}""";

    /// <summary>
    /// Orders (or Inventory) as it answers a signed-in request, on a loopback port: the defaults, the token check and its
    /// answers, a route that needs a token. Users' internal API is away; a token refused before its stamp check never asks it.
    /// </summary>
    private static async Task<WebApplication> StartServiceAsync(string jwksBaseAddress)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        AccessTokens.UseJwksAt(builder.Configuration, jwksBaseAddress);
        builder.Configuration["services:users:http:0"] = "http://127.0.0.1:1";
        builder.Configuration["ServiceAuth:ApiKey"] = "orders-key";
        builder.Logging.ClearProviders().AddFakeLogging();
        builder.AddServiceDefaults();
        builder.AddShopAuthentication();
        var service = builder.Build();
        service.UseServiceDefaults();
        service.UseAuthentication();
        service.UseAuthorization();
        service.MapGet("/orders", () => "[]").RequireAuthorization();
        await service.StartAsync(TestContext.Current.CancellationToken);
        return service;
    }

    private static async Task<HttpResponseMessage> SignedInRequestAsync(WebApplication service, string token)
    {
        using var client = new HttpClient { BaseAddress = new Uri(LoopbackApp.Address(service)) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "orders");
        request.Headers.Authorization = new("Bearer", token);
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Whether a token signed with Users' key was accepted, and whether it failed only for want of Users' keys.</summary>
    private static async Task<(bool Accepted, bool KeysUnavailable)> CheckAsync(WebApplication service)
    {
        await using var scope = service.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Authorization = "Bearer " + AccessTokens.Sign(UsersKey);
        var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        return (result.Succeeded, context.FailedForWantOfSigningKeys(result.Failure));
    }
}
