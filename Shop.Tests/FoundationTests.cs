using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>The gateway and the basics every service shares: health, errors, request ids, routing rules, API docs.</summary>
public sealed class FoundationTests(ShopApp shop)
{
    [Theory]
    [InlineData("/healthz")]
    [InlineData("/users/healthz")]
    [InlineData("/orders/healthz")]
    [InlineData("/inventory/healthz")]
    public async Task Every_healthz_is_public_and_healthy(string path)
    {
        var response = await shop.Client().GetAsync(path);
        await response.ExpectAsync(200);
        Assert.Equal("healthy", (await response.JsonAsync()).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("/users/no-such-route")]
    [InlineData("/orders/no/such/route")]
    [InlineData("/inventory/a/b/c")]
    public async Task Unknown_api_path_is_problem_json_404(string path)
    {
        var response = await shop.Client().GetAsync(path);
        var problem = await response.ExpectProblemAsync(404);
        // Even the framework's own answer tells the caller what was wrong.
        Assert.Contains($"GET {path}", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_method_the_path_does_not_take_is_a_405_problem_naming_the_ones_it_does()
    {
        var response = await shop.Client().SendAsync(HttpMethod.Put, "/inventory/ANY-SKU", JsonContent.Create(new { name = "x" }));
        var problem = await response.ExpectProblemAsync(405);
        var allowed = response.Content.Headers.Allow;
        Assert.Contains("PATCH", allowed);
        var detail = problem.GetProperty("detail").GetString();
        Assert.Contains("PUT", detail);
        Assert.Contains("PATCH", detail);
    }

    [Fact]
    public async Task Request_id_is_echoed_or_created()
    {
        var echoed = await shop.Client().GetAsync("/users/healthz", r => r.Headers.Add("X-Request-Id", "test-req-42"));
        Assert.Equal("test-req-42", echoed.Headers.GetValues("X-Request-Id").Single());

        var created = await shop.Client().GetAsync("/inventory/healthz");
        Assert.False(string.IsNullOrWhiteSpace(created.Headers.GetValues("X-Request-Id").Single()));
    }

    [Fact]
    public async Task Request_id_reaches_the_service_and_its_error_body()
    {
        var response = await shop.Client().GetAsync("/orders/", r => r.Headers.Add("X-Request-Id", "trace-me-7"));
        var problem = await response.ExpectProblemAsync(401);
        Assert.Equal("trace-me-7", problem.GetProperty("request_id").GetString());
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    // The rule for every path shape is GatewayEdgeRulesTests (fast tier); this checks the gateway applies it,
    // even to a caller holding a real service key. A service would answer these paths 404 by itself too (its
    // internal routes are not under its prefix), so the test asserts the gateway's own refusal, "No such route.",
    // where a service's 404 names the path it did not find: the request never reached the service.
    [Theory]
    [InlineData("GET", "/inventory/internal/reservations")]
    [InlineData("POST", "/inventory/internal/reservations/")]
    [InlineData("POST", "/inventory/Internal/reservations/00000000-0000-0000-0000-000000000001/release")]
    [InlineData("GET", "/users/internal/users/1")]
    [InlineData("GET", "/orders/INTERNAL/")]
    public async Task Internal_routes_are_never_routed(string method, string path)
    {
        var client = shop.Client();
        client.Http.DefaultRequestHeaders.Add("X-Service-Key", shop.ParameterValue("orders-service-key"));
        var response = await client.SendAsync(new HttpMethod(method), path, method == "POST" ? JsonContent.Create(new { }) : null);
        var problem = await response.ExpectProblemAsync(404);
        Assert.Equal("No such route.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Bodies_over_one_mebibyte_are_refused_with_413()
    {
        var big = "{\"name\":\"" + new string('a', 1024 * 1024 + 10) + "\"}";
        // The gateway refuses on Content-Length without reading the body and then drops the
        // connection; a client still writing the body sees a broken pipe instead of the answer.
        // Expect: 100-continue (what a client sending a large body should do) lets it read the 413 first.
        var response = await shop.Client().PostRawAsync("/users/register", big, r => r.Headers.ExpectContinue = true);
        await response.ExpectProblemAsync(413);
    }

    [Theory]
    [InlineData("users")]
    [InlineData("orders")]
    [InlineData("inventory")]
    public async Task Each_service_publishes_its_openapi_document_with_bearer_scheme(string service)
    {
        var response = await shop.Client().GetAsync($"/{service}/openapi/v1.json");
        await response.ExpectAsync(200);
        var document = await response.JsonAsync();
        Assert.Contains(document.GetProperty("paths").EnumerateObject(), p => p.Name.StartsWith($"/{service}", StringComparison.Ordinal));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("bearer", out _));
        Assert.DoesNotContain("/internal/", document.GetProperty("paths").GetRawText());
    }

    [Fact]
    public async Task Gateway_serves_the_api_reference_ui()
    {
        var response = await shop.Client().GetAsync("/api-docs");
        await response.ExpectAsync(200);
        Assert.Contains("text/html", response.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task Browser_navigation_to_a_client_route_loads_the_spa()
    {
        var response = await shop.Client().GetAsync("/orders/123", r => r.Headers.Add("Accept", "text/html,application/xhtml+xml"));
        await response.ExpectAsync(200);
        Assert.Contains("<div id=\"root\"", await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Vite's hot reload talks over a websocket through the gateway. When the gateway cut it after a quiet
    /// spell, the page lost hot updates and the Vite client tried to reload it, mid-edit.
    /// </summary>
    [Fact]
    public async Task The_dev_servers_hot_reload_connection_outlives_a_quiet_spell_behind_the_gateway()
    {
        // The client script carries the token Vite wants on its websocket.
        var client = await (await shop.Client().GetAsync("/@vite/client")).Content.ReadAsStringAsync();
        var token = Regex.Match(client, @"const wsToken = ""([^""]+)""").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(token), "no wsToken in /@vite/client");

        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("vite-hmr");
        var address = new UriBuilder(shop.GatewayAddress) { Scheme = "ws", Query = "token=" + token }.Uri;
        using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(address, connecting.Token);
        var buffer = new byte[4096];
        var first = await socket.ReceiveAsync(buffer, connecting.Token);
        Assert.Contains("connected", Encoding.UTF8.GetString(buffer, 0, first.Count));

        // Nobody edits a file for longer than the gateway lets a proxied connection sit idle (25 s): the
        // connection must stay open, kept so by the dev server's pings.
        var pings = 0;
        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        try
        {
            while (true)
            {
                var next = await socket.ReceiveAsync(buffer, quiet.Token);
                Assert.True(next.MessageType != WebSocketMessageType.Close, $"the hot reload connection was closed after a quiet spell ({next.CloseStatus} {next.CloseStatusDescription})");
                pings += Encoding.UTF8.GetString(buffer, 0, next.Count).Contains("\"ping\"") ? 1 : 0;
            }
        }
        catch (OperationCanceledException) when (quiet.IsCancellationRequested)
        {
            // Forty quiet seconds passed with the connection open.
        }
        catch (WebSocketException e)
        {
            Assert.Fail($"the hot reload connection ended after a quiet spell: {e.Message}");
        }
        Assert.True(pings > 0, "the dev server sent no keep-alive ping in 40 s");
    }
}
