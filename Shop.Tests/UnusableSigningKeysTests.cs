using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The app with Orders, Inventory and the gateway fetching Users' signing keys (<c>Jwt:JwksBaseAddress</c>) from a stand-in
/// that answers with a proxy's HTML error page sent as 200, as a misconfiguration or a Users deploy behind such a proxy
/// would, until a test has it pass on Users' own key set. Users, signing with its own keys, is unaffected. The gateway's
/// invalid-token budget is 3 with no refill within a test, so a token it counts shows as its 429 at once.
/// </summary>
public sealed class UnusableSigningKeysShopApp : ShopAppHost
{
    public const int InvalidTokenBudget = 3;

    private readonly WebApplication _keys;
    private volatile string? _keySet;

    public UnusableSigningKeysShopApp()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _keys = builder.Build();
        _keys.MapGet("/users/.well-known/jwks.json", () => _keySet is { } keySet
            ? Results.Text(keySet, "application/json")
            : Results.Text("<!doctype html><title>502 Bad Gateway</title><h1>502 Bad Gateway</h1>", "text/html"));
        _keys.Start();
    }

    /// <summary>From now on, the stand-in answers with <paramref name="keySet"/> (Users' JWKS document).</summary>
    public void ServeKeySet(string keySet) => _keySet = keySet;

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var service in new[] { "gateway", "orders", "inventory" })
        {
            builder.CreateResourceBuilder<ProjectResource>(service).WithEnvironment("Jwt__JwksBaseAddress", _keys.Urls.Single());
        }
        builder.CreateResourceBuilder<ProjectResource>("gateway")
            .WithEnvironment("RateLimiting__InvalidTokens__TokenLimit", InvalidTokenBudget.ToString())
            .WithEnvironment("RateLimiting__InvalidTokens__TokensPerPeriod", "1")
            .WithEnvironment("RateLimiting__InvalidTokens__ReplenishmentPeriod", "01:00:00");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _keys.DisposeAsync();
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UnusableSigningKeysCollection : ICollectionFixture<UnusableSigningKeysShopApp>
{
    public const string Name = "Unusable signing keys (a second app whose services fetch keys from a stand-in; run alone)";
}

[Collection(UnusableSigningKeysCollection.Name)]
public sealed class UnusableSigningKeysTests(UnusableSigningKeysShopApp shop)
{
    /// <summary>
    /// A shopper's valid token while the services cannot read a key set: the service's fault, so 503 with Retry-After naming
    /// Users, never 401 "sign in again" (the shopper would, and be refused again), and never counted by the gateway as an
    /// invalid token (past its budget, the shopper's address would be refused 429). Served once the key set is Users' again.
    /// </summary>
    [Fact]
    public async Task A_valid_token_is_answered_503_and_not_counted_as_invalid_while_the_keys_answer_is_an_error_page()
    {
        var (_, user) = await shop.NewUserAsync();
        // Not 127.0.0.1, which the test app exempts from the gateway's limits.
        var shopper = shop.ClientFrom(IPAddress.Parse("127.0.0.4"), user.Token);

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 2 * UnusableSigningKeysShopApp.InvalidTokenBudget; i++)
        {
            answers.Add(await shopper.GetAsync("/orders/"));
        }

        Assert.True(answers.All(a => a.StatusCode == HttpStatusCode.ServiceUnavailable),
            "a valid token while the key set is unusable was answered " + string.Join(", ", answers.Select(a => (int)a.StatusCode)));
        foreach (var answer in answers)
        {
            await answer.ExpectUnavailableAsync("users (the access tokens' signing keys)");
            Assert.Empty(answer.Headers.WwwAuthenticate);
        }

        shop.ServeKeySet(await (await shop.Client().GetAsync("/users/.well-known/jwks.json")).Content.ReadAsStringAsync());
        // Within the 30 s IdentityModel leaves between two fetches for a key it does not have.
        var served = await Eventually.ReadUntilAsync(async () => (await shopper.GetAsync("/orders/")).StatusCode,
            s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, served);
    }
}
