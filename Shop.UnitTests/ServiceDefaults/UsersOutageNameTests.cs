using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// Orders and Inventory meet an outage of Users in two ways: the token check cannot fetch Users' signing keys (a token
/// with a key not seen yet), and the internal client cannot ask Users for an account (an order's account check, a stamp
/// check). Each was logged under a name of its own ("users (the access tokens' signing keys)", "users"): one Users away,
/// two Warnings and two end lines. Built as the services build them, with Users on a closed port of this machine (real
/// refused connections).
/// </summary>
public sealed class UsersOutageNameTests
{
    [Fact]
    public async Task A_users_outage_met_by_the_token_check_and_by_the_users_client_is_one_warning_for_users()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        const string away = "http://127.0.0.1:1";
        builder.Configuration["Jwt:JwksBaseAddress"] = away;
        builder.Configuration["services:users:http:0"] = away;
        builder.Configuration["ServiceAuth:ApiKey"] = "orders-key";
        builder.Logging.ClearProviders().AddFakeLogging();
        builder.AddServiceDefaults();
        builder.AddShopAuthentication();
        await using var service = builder.Build();
        var handler = service.Services.GetServices<IExceptionHandler>().OfType<ShopExceptionHandler>().Single();
        var token = AccessTokens.Sign(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "users-key" });

        var answers = new List<(string Path, JsonElement Problem)>();
        for (var i = 0; i < 3; i++)
        {
            // A signed-in request whose token's key this process has not fetched.
            await using (var scope = service.Services.CreateAsyncScope())
            {
                var http = Request(scope.ServiceProvider);
                http.Request.Headers.Authorization = "Bearer " + token;
                await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
                var refused = await Record.ExceptionAsync(() => http.ChallengeAsync(JwtBearerDefaults.AuthenticationScheme));
                answers.Add(("token check", await AnswerAsync(handler, http, refused, ct)));
            }
            // An order's account check.
            await using (var scope = service.Services.CreateAsyncScope())
            {
                var http = Request(scope.ServiceProvider);
                var refused = await Record.ExceptionAsync(() => scope.ServiceProvider.GetRequiredService<UsersAccountClient>().GetStatusAsync(42, ct));
                answers.Add(("account check", await AnswerAsync(handler, http, refused, ct)));
            }
        }

        // Every Warning the process wrote, whoever wrote it (the token check's key fetch said the outage again), and
        // OutageLog's Information lines (a second outage would end with a second one).
        var said = service.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Level >= LogLevel.Warning || (r.Category == typeof(OutageLog).FullName && r.Level >= LogLevel.Information)).ToList();
        Assert.True(said.Count == 1, $"{said.Count} Warnings for one outage of Users: " + string.Join(" | ", said.Select(r => $"{r.Category}: {r.Message.Split(". Requests")[0]}")));
        Assert.Equal(typeof(OutageLog).FullName, said[0].Category);
        Assert.StartsWith("Dependency unavailable: users (", said[0].Message);
        // The reason an operator can act on, whichever way the outage was met first.
        Assert.Contains("refused", said[0].Message.Split(". Requests")[0], StringComparison.OrdinalIgnoreCase);
        // The caller is still told what the request needed of Users: the 503 bodies are as they were.
        Assert.All(answers, a => Assert.Equal(
            a.Path == "token check"
                ? "A service this request depends on (users (the access tokens' signing keys)) is unavailable. Try again shortly."
                : "A service this request depends on (users) is unavailable. Try again shortly.",
            a.Problem.GetProperty("detail").GetString()));
    }

    private static DefaultHttpContext Request(IServiceProvider services)
    {
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();
        return http;
    }

    /// <summary>What the service's error handler answers for <paramref name="refused"/>: a 503 and its problem.</summary>
    private static async Task<JsonElement> AnswerAsync(ShopExceptionHandler handler, DefaultHttpContext http, Exception? refused, CancellationToken ct)
    {
        var unavailable = Assert.IsType<ServiceUnavailableException>(refused);
        Assert.True(await handler.TryHandleAsync(http, unavailable, ct));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        return (await JsonDocument.ParseAsync(http.Response.Body, cancellationToken: ct)).RootElement.Clone();
    }
}
