using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Every problem answer says in words what went wrong and what to do (<c>detail</c>), and carries
/// <c>request_id</c> and <c>trace_id</c> to quote: 401 (which token problem), 403 (which role), and
/// validation 400s — on every service, through the gateway.
/// </summary>
public sealed class ProblemDetailTests(ShopApp shop)
{
    [Theory]
    [InlineData("/users/me")]
    [InlineData("/orders/")]
    [InlineData("/inventory/")]
    public async Task A_401_says_whether_the_token_is_missing_expired_invalid_or_outdated(string path)
    {
        // POST /inventory/ is the admin route that needs a token there; the others are GETs.
        Task<HttpResponseMessage> Call(ShopClient client) => path == "/inventory/"
            ? client.PostJsonAsync(path, new { sku = "X-1", name = "x", price = 1m, qty = 1 })
            : client.GetAsync(path);

        var (_, user) = await shop.NewUserAsync();
        var cases = new List<(string Case, string Token, string Expected)>
        {
            ("no token", "", "no access token"),
            ("expired", await SignAsync(user, expires: DateTime.UtcNow.AddMinutes(-5)), "expired"),
            ("foreign key", await SignAsync(user, key: new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "foreign" }), "signature"),
            ("garbage", "not.a.jwt", "not a valid access token"),
        };
        foreach (var (name, token, expected) in cases)
        {
            var response = await Call(shop.Client(token.Length == 0 ? null : token));
            var problem = await ExpectDetailedProblemAsync(response, 401, expected, name);
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
            Assert.Contains("sign in", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        }

        // The account changed after the token was issued (made admin): the old token is refused with that reason.
        var (_, changed) = await shop.NewUserAsync();
        await (await (await shop.AdminAsync()).PatchJsonAsync($"/users/{changed.Id}", new { role = "admin" })).ExpectAsync(200);
        await ExpectDetailedProblemAsync(await Call(shop.Client(changed.Token)), 401, "account changed", "outdated stamp");
    }

    [Theory]
    [InlineData("/users/")]
    [InlineData("/orders/webhooks/")]
    [InlineData("/inventory/")]
    public async Task A_403_names_the_role_that_is_required(string path)
    {
        var (shopper, _) = await shop.NewUserAsync();
        var response = path == "/inventory/"
            ? await shopper.PostJsonAsync(path, new { sku = "X-1", name = "x", price = 1m, qty = 1 })
            : await shopper.GetAsync(path);
        await ExpectDetailedProblemAsync(response, 403, "admin", "shopper on an admin route");
    }

    [Theory]
    [InlineData("/users/register")]
    [InlineData("/orders/")]
    [InlineData("/inventory/")]
    public async Task A_400_says_which_fields_are_wrong_and_a_malformed_body_says_so(string path)
    {
        var client = path == "/inventory/" ? await shop.AdminAsync() : path == "/orders/" ? (await shop.NewUserAsync()).Client : shop.Client();
        var (body, field) = path switch
        {
            "/users/register" => ((object)new { name = "", email = "not-an-email", password = "x" }, "email"),
            "/orders/" => (new { items = Array.Empty<object>() }, "items"),
            _ => (new { sku = "bad sku!", name = "x", price = -1m, qty = 1 }, "sku"),
        };
        var invalid = await ExpectDetailedProblemAsync(await client.PostJsonAsync(path, body), 400, field, "invalid fields");
        Assert.True(invalid.TryGetProperty("errors", out _), "validation problem without errors");

        await ExpectDetailedProblemAsync(await client.PostRawAsync(path, "{\"name\": "), 400, "JSON", "malformed JSON");
        await ExpectDetailedProblemAsync(await client.PostRawAsync(path, "{\"qty\": \"many\", \"price\": \"free\", \"items\": 3, \"email\": 5}"), 400, "type", "wrong type");

        // A name sent twice: a parser that keeps the last (System.Text.Json's default) and a proxy or log that reads the
        // first see two different requests; neither is what the client meant to send.
        var twice = path switch
        {
            "/users/register" => "{\"name\": \"Twice\", \"email\": \"first@example.com\", \"email\": \"second@example.com\", \"password\": \"correct horse battery\"}",
            "/orders/" => "{\"items\": [{\"sku\": \"X-1\", \"qty\": 1, \"qty\": 100}]}",
            _ => "{\"sku\": \"DUP-1\", \"name\": \"x\", \"price\": 1, \"price\": 0.01, \"qty\": 1}",
        };
        var duplicate = await ExpectDetailedProblemAsync(await client.PostRawAsync(path, twice), 400, "more than once", "a property sent twice");
        Assert.True(duplicate.TryGetProperty("errors", out _), $"a property sent twice: no errors in {duplicate}");
    }

    /// <summary>
    /// A query value that does not bind is named as the client sent it: the framework's message names the C#
    /// parameter, and the problem said "'inStock' has the wrong format" to a client that had sent in_stock.
    /// </summary>
    [Theory]
    [InlineData("/inventory/?in_stock=yes", "in_stock")]
    [InlineData("/orders/?user_id=me", "user_id")]
    [InlineData("/orders/?limit=many", "limit")]
    public async Task A_query_value_of_the_wrong_type_is_named_as_the_client_sent_it(string path, string field)
    {
        var problem = await (await (await shop.AdminAsync()).GetAsync(path)).ExpectValidationAsync(field);
        Assert.Contains($"'{field}'", problem.GetProperty("detail").GetString());
    }

    /// <summary>
    /// CONNECT, as open-proxy scanners send it all day to anything listening, is the client's mistake: the gateway is
    /// no proxy, and YARP cannot forward the method. It answered 502 "the web app broke off" (or the orders service),
    /// a client's request counted as a broken service, with a warning and its stack trace in the gateway's log.
    /// </summary>
    [Theory]
    [InlineData("example.com:443")]
    [InlineData("/orders/")]
    public async Task A_CONNECT_is_refused_as_the_clients_mistake_not_answered_502(string target)
    {
        // A scanner's authority-form target names its Host too (Kestrel refuses the two when they differ).
        var host = target.StartsWith('/') ? shop.GatewayAddress.Authority : target;
        var answer = await shop.ExchangeRawAsync($"CONNECT {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        var statusLine = answer[..answer.IndexOf('\r')];
        Assert.True(statusLine.StartsWith("HTTP/1.1 405", StringComparison.Ordinal), $"CONNECT {target}: {statusLine}");
        Assert.Contains("Allow: GET, HEAD, POST, PATCH, DELETE", answer);
        // The body is one small JSON object, whole or as a single chunk: from its first brace to its last.
        var detail = JsonDocument.Parse(answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)]).RootElement.GetProperty("detail").GetString();
        Assert.Contains("CONNECT", detail);
    }

    /// <summary>
    /// The CONNECT refusal's <c>Allow</c> is a constant in the gateway (YARP's routes take every method): it must name the
    /// methods the three APIs' documents have operations for, and HEAD, which the web app's pages and files take. A route
    /// with a new method, or one whose last route went, would otherwise make it lie.
    /// </summary>
    [Fact]
    public async Task The_CONNECT_refusals_Allow_names_exactly_the_methods_the_apis_take()
    {
        var documented = new SortedSet<string>(StringComparer.Ordinal) { "HEAD" };
        foreach (var api in new[] { "users", "orders", "inventory" })
        {
            var document = await (await shop.Client().GetAsync($"/{api}/openapi/v1.json")).JsonAsync();
            foreach (var path in document.GetProperty("paths").EnumerateObject())
            {
                documented.UnionWith(path.Value.EnumerateObject().Select(p => p.Name.ToUpperInvariant()).Where(HttpMethodNames.Contains));
            }
        }

        var answer = await shop.ExchangeRawAsync($"CONNECT /orders/ HTTP/1.1\r\nHost: {shop.GatewayAddress.Authority}\r\nConnection: close\r\n\r\n");
        var allow = answer.Split("\r\n").Single(line => line.StartsWith("Allow: ", StringComparison.OrdinalIgnoreCase))["Allow: ".Length..];

        Assert.Equal(string.Join(", ", documented), string.Join(", ", allow.Split(", ").Order(StringComparer.Ordinal)));
    }

    private static readonly HashSet<string> HttpMethodNames = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

    /// <summary>
    /// A request line or headers over Kestrel's limits were refused by Kestrel itself, before any of the gateway's code ran:
    /// a bare 414 or 431, no body, where every other error of the Shop says what to do. A request line Kestrel cannot parse
    /// stays a bare 400: it never becomes a request (EdgeRequestLimitsTests has the limits to the byte, and HTTP/2).
    /// </summary>
    [Theory]
    [InlineData("path", 414)]
    [InlineData("headers", 431)]
    public async Task A_request_line_or_headers_over_the_limits_are_refused_with_a_problem_that_says_so(string oversized, int status)
    {
        var target = oversized == "path" ? "/inventory/" + new string('a', 20 * 1024) : "/inventory/";
        var headers = oversized == "headers" ? $"X-Filler: {new string('f', 40 * 1024)}\r\n" : "";
        var answer = await shop.ExchangeRawAsync($"GET {target} HTTP/1.1\r\nHost: {shop.GatewayAddress.Authority}\r\n{headers}Connection: close\r\n\r\n");

        var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
        Assert.True(statusLine.StartsWith($"HTTP/1.1 {status}", StringComparison.Ordinal)
            && answer.Contains("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase) && answer.Contains('{'),
            $"a {oversized} over the limits was not answered {status} with a problem:\n{answer}");
        var problem = JsonDocument.Parse(answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)]).RootElement;
        Assert.Contains(status == 414 ? "Shorten the path" : "Send fewer or smaller headers", problem.GetProperty("detail").GetString());
        Assert.True(problem.TryGetProperty("request_id", out var requestId) && answer.Contains($"X-Request-Id: {requestId.GetString()}", StringComparison.OrdinalIgnoreCase),
            $"no request_id, or not the answer's X-Request-Id:\n{answer}");
    }

    /// <summary>
    /// Headers the gateway takes (32 KiB of header lines, its limit to the byte) reach the service with what the gateway
    /// adds on the way (forwarding headers, the trace context, the request id): a service with Kestrel's default limit
    /// refused them with a bare 431 that the gateway passed on, as if the client's request were too large after all.
    /// A client's own X-Forwarded-For chain and X-Forwarded-Host are replaced by the gateway's, never added to.
    /// </summary>
    [Theory]
    [InlineData("bytes")]
    [InlineData("fields")]
    [InlineData("bytes of forwarding headers")]
    public async Task Headers_at_the_gateways_limit_are_taken_by_the_service_it_forwards_them_to(string limit)
    {
        var host = $"Host: {shop.GatewayAddress.Authority}\r\n";
        const string close = "Connection: close\r\n", filler = "X-Filler: \r\n", forwardedHost = "X-Forwarded-Host: shop.example\r\n";
        var chain = string.Concat(Enumerable.Repeat("203.0.113.7, ", 32 * 1024 / 13));
        var headers = limit switch
        {
            "bytes" => host + close + $"X-Filler: {new string('f', 32 * 1024 - host.Length - close.Length - filler.Length)}\r\n",
            "fields" => host + close + string.Concat(Enumerable.Range(0, 98).Select(i => $"X-Filler-{i}: {i}\r\n")),
            _ => host + close + forwardedHost + $"X-Forwarded-For: {chain[..(32 * 1024 - host.Length - close.Length - forwardedHost.Length - "X-Forwarded-For: \r\n".Length)]}\r\n",
        };
        Assert.Equal(limit == "fields" ? 100 : 32 * 1024, limit == "fields" ? headers.Split("\r\n").Length - 1 : headers.Length);

        var answer = await shop.ExchangeRawAsync($"GET /inventory/ HTTP/1.1\r\n{headers}\r\n");

        var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
        // Inventory answers the token-less catalogue request itself (401): it took the headers.
        Assert.True(statusLine.StartsWith("HTTP/1.1 401", StringComparison.Ordinal) && answer.Contains("application/problem+json", StringComparison.OrdinalIgnoreCase),
            $"headers the gateway takes were refused on the way to Inventory:\n{answer}");
    }

    /// <summary>
    /// A request line the gateway takes (8192 bytes, its limit to the byte) reaches the service as YARP forwards it: with
    /// dot segments removed, but every character a path may not carry as it is (<c>"</c>, <c>{</c>, <c>|</c>, a <c>%</c>
    /// of <c>%2F</c> or of an escape that is no UTF-8) escaped again, each byte becoming three. A service with Kestrel's
    /// default limit, the edge's, refused the longer line with a bare 414 that the gateway passed on.
    /// </summary>
    [Theory]
    [InlineData("plain", "a")]
    [InlineData("percent-encoded", "%61")]
    [InlineData("dot segments", "b/../")]
    [InlineData("empty segments", "b//")]
    [InlineData("encoded non-ASCII", "%C3%A9")]
    [InlineData("encoded slashes", "%2F")]
    [InlineData("an escape that is no UTF-8", "%E2%82")]
    [InlineData("characters the gateway escapes", "{\"|}")]
    [InlineData("a query", "?q=\"")]
    public async Task A_request_line_at_the_gateways_limit_is_taken_by_the_service_it_forwards_it_to(string @case, string unit)
    {
        string Line(string target) => $"GET {target} HTTP/1.1\r\n";
        var start = unit.StartsWith('?') ? "/inventory/" + unit : "/inventory/x";
        var repeated = unit.StartsWith('?') ? unit[^1..] : unit;
        var target = start + string.Concat(Enumerable.Repeat(repeated, (8192 - Line(start).Length) / repeated.Length));
        target += new string('a', 8192 - Line(target).Length);
        Assert.Equal(8192, Line(target).Length);

        var answer = await shop.ExchangeRawAsync($"{Line(target)}Host: {shop.GatewayAddress.Authority}\r\nConnection: close\r\n\r\n");

        // Inventory answers itself: 401 to the token-less catalogue or item, 404 to a path that names no route; either a problem.
        var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
        Assert.True((statusLine.StartsWith("HTTP/1.1 401", StringComparison.Ordinal) || statusLine.StartsWith("HTTP/1.1 404", StringComparison.Ordinal))
            && answer.Contains("application/problem+json", StringComparison.OrdinalIgnoreCase),
            $"a request line of 8192 bytes ({@case}), taken by the gateway, was refused on the way to Inventory:\n{answer[..Math.Min(answer.Length, 600)]}");
    }

    /// <summary>
    /// The web app's pages and files take what the gateway takes, as the services do: Vite's dev server (Node: 16 KiB for the
    /// request line and headers together) answered a bare 431 to a browser carrying 20 KB of cookies for the host, and a
    /// query the gateway escapes on the way. The image's nginx has its own test (<c>WebImageNginxTests</c>).
    /// </summary>
    [Theory]
    [InlineData("/", "cookies")]
    [InlineData("/", "request line")]
    [InlineData("/", "both")]
    [InlineData("/favicon.svg", "both")]
    public async Task A_request_at_the_gateways_limits_is_taken_by_the_web_app(string path, string atLimit)
    {
        string Line(string target) => $"GET {target} HTTP/1.1\r\n";
        var target = path;
        if (atLimit != "cookies")
        {
            // A quote is escaped on the way (%22): the line reaches the web app three times as long, as it may reach a service.
            target += "?q=" + new string('"', (8192 - Line(path + "?q=").Length));
            Assert.Equal(8192, Line(target).Length);
        }
        var headers = $"Host: {shop.GatewayAddress.Authority}\r\nConnection: close\r\n";
        if (atLimit != "request line")
        {
            // One Cookie line filling the headers to the gateway's limit: the gateway measures no line on its own.
            const string cookie = "Cookie: other_app=\r\n";
            headers += $"Cookie: other_app={new string('c', 32 * 1024 - headers.Length - cookie.Length)}\r\n";
            Assert.Equal(32 * 1024, headers.Length);
        }

        var answer = await shop.ExchangeRawAsync($"{Line(target)}{headers}\r\n");

        var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
        Assert.True(statusLine.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && answer.Contains(path == "/" ? "<div id=\"root\">" : "<svg", StringComparison.Ordinal),
            $"GET {path} with {(atLimit == "both" ? "the request line and the headers" : $"the {atLimit}")} at the gateway's limits, taken by the gateway, was refused on the way to the web app:\n{answer[..Math.Min(answer.Length, 600)]}");
    }

    /// <summary>
    /// The gateway sends a client's Host on as X-Forwarded-Host, which the services trust as the public host (their OpenAPI
    /// documents name it as their server). A Host no host name can be, 20 KB under the 32 KiB header limit, reached them
    /// as it came. It is refused at the edge with a problem that says what to send; a 255-byte name with a port is taken.
    /// </summary>
    [Theory]
    [InlineData("/inventory/openapi/v1.json")]
    [InlineData("/")]
    public async Task A_host_no_host_name_can_be_is_refused_with_a_problem_that_says_what_to_send(string path)
    {
        var longest = string.Join('.', Enumerable.Repeat(new string('h', 63), 4)).Remove(255) + ":" + shop.GatewayAddress.Port;
        var taken = await shop.ExchangeRawAsync($"GET {path} HTTP/1.1\r\nHost: {longest}\r\nConnection: close\r\n\r\n");
        Assert.True(taken.StartsWith("HTTP/1.1 200", StringComparison.Ordinal), $"a host name of 255 bytes with a port was refused:\n{taken[..Math.Min(taken.Length, 600)]}");

        foreach (var host in new[] { new string('h', 20 * 1024), new string('h', 256), "localhost:99999" })
        {
            var answer = await shop.ExchangeRawAsync($"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");

            var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
            Assert.True(statusLine.StartsWith("HTTP/1.1 400", StringComparison.Ordinal) && answer.Contains("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase),
                $"GET {path} with a Host of {host.Length} bytes ({host[..Math.Min(host.Length, 20)]}…) was not refused with a problem:\n{answer[..Math.Min(answer.Length, 600)]}");
            var problem = JsonDocument.Parse(answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)]).RootElement;
            Assert.Contains("Send the host name", problem.GetProperty("detail").GetString());
            Assert.True(problem.TryGetProperty("request_id", out _), $"no request_id:\n{answer}");
        }
    }

    /// <summary>
    /// A chunked body carries no Content-Length, so the gateway learns it is too large only while YARP forwards it.
    /// It was answered 413 with the generic "The request was refused" and logged as a forwarding fault, a warning
    /// with an ~85-line stack trace, per request: anyone could fill the operator's log at 1 MiB a line.
    /// </summary>
    [Fact]
    public async Task A_chunked_body_over_one_mebibyte_is_refused_as_a_measured_one_is_and_not_logged_as_a_fault()
    {
        var measured = await (await shop.Client().PostRawAsync("/users/register", "{\"name\":\"" + new string('a', 1024 * 1024 + 10) + "\"}",
            r => r.Headers.ExpectContinue = true)).ExpectProblemAsync(413);
        var from = DateTimeOffset.UtcNow;

        var answer = await SendChunkedAsync("/users/register", chunks: 17, finish: true); // 17 × 64 KiB: 1 MiB and one chunk more
        var until = DateTimeOffset.UtcNow;

        var logged = await shop.ErrorEntriesAsync(["gateway"], from, until.AddSeconds(1), containing: "RequestBody", linesPerEntry: 3, warnings: true);
        Assert.True(logged.Count == 0, "A client's oversized body was logged as the gateway's fault:\n" + string.Join("\n\n", logged));
        var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
        Assert.True(statusLine.StartsWith("HTTP/1.1 413", StringComparison.Ordinal), $"a chunked body over 1 MiB: {answer}");
        Assert.Contains("Content-Type: application/problem+json", answer, StringComparison.OrdinalIgnoreCase);
        var problem = JsonDocument.Parse(answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)]).RootElement;
        Assert.Equal(measured.GetProperty("detail").GetString(), problem.GetProperty("detail").GetString());
    }

    /// <summary>A client that gives up halfway through its body is its own business: no warning in the gateway's log.</summary>
    [Fact]
    public async Task A_body_the_client_breaks_off_is_not_logged_as_a_fault()
    {
        var from = DateTimeOffset.UtcNow;
        await SendChunkedAsync("/users/register", chunks: 4, finish: false);
        var logged = await shop.ErrorEntriesAsync(["gateway"], from, containing: "RequestBody", linesPerEntry: 3, warnings: true);
        Assert.True(logged.Count == 0, "A client's broken-off body was logged as the gateway's fault:\n" + string.Join("\n\n", logged));
    }

    /// <summary>
    /// A chunked body whose chunk size is not hexadecimal: Kestrel refuses it while YARP forwards it, and the client was
    /// answered a bare 400 with nothing saying what was wrong with its request.
    /// </summary>
    [Fact]
    public async Task A_malformed_chunked_body_is_answered_with_a_problem_that_says_so()
    {
        var answer = await shop.ExchangeRawAsync(
            $"POST /users/register HTTP/1.1\r\nHost: {shop.GatewayAddress.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + "zz\r\n{}\r\n0\r\n\r\n");
        var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
        Assert.True(statusLine.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), $"a malformed chunked body: {answer}");
        Assert.True(answer.Contains("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase) && answer.Contains('{'),
            $"a malformed chunked body was not answered with a problem:\n{answer}");
        var detail = JsonDocument.Parse(answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)]).RootElement.GetProperty("detail").GetString();
        Assert.Contains("chunked", detail);
    }

    /// <summary>Sends <paramref name="request"/> as it is over a new connection and reads the answer until the gateway closes it.</summary>
    /// <summary>
    /// Posts a chunked body of 64 KiB chunks over a raw connection and reads the answer to its end; without
    /// <paramref name="finish"/> the connection is closed halfway through the body instead (answer empty).
    /// </summary>
    private async Task<string> SendChunkedAsync(string path, int chunks, bool finish)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(shop.GatewayAddress.Host, shop.GatewayAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {shop.GatewayAddress.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var chunk = System.Text.Encoding.ASCII.GetBytes("10000\r\n" + new string('a', 64 * 1024) + "\r\n");
        try
        {
            for (var i = 0; i < chunks; i++)
            {
                await stream.WriteAsync(chunk);
            }
        }
        catch (IOException)
        {
            // The gateway answered and closed before the last chunk: its answer is still there to read.
        }
        if (!finish)
        {
            await Task.Delay(500); // the gateway has begun forwarding the body
            socket.Client.Close(0); // a reset, as a client that crashed or gave up
            return "";
        }
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await new StreamReader(stream).ReadToEndAsync(bound.Token);
    }

    private static async Task<JsonElement> ExpectDetailedProblemAsync(HttpResponseMessage response, int status, string expectedInDetail, string because)
    {
        var problem = await response.ExpectProblemAsync(status);
        var detail = problem.TryGetProperty("detail", out var d) ? d.GetString() : null;
        Assert.True(detail is { Length: > 20 } && detail.Contains(expectedInDetail, StringComparison.OrdinalIgnoreCase),
            $"{because}: {status} from {response.RequestMessage?.RequestUri} should have a detail mentioning '{expectedInDetail}', got {problem}");
        Assert.True(problem.TryGetProperty("request_id", out _), $"{because}: no request_id in {problem}");
        Assert.True(problem.TryGetProperty("trace_id", out _), $"{because}: no trace_id in {problem}");
        return problem;
    }

    /// <summary>A token for the user with the real signing key (or another key), otherwise genuine.</summary>
    private async Task<string> SignAsync(TestUser user, DateTime? expires = null, SecurityKey? key = null)
    {
        if (key is null)
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(Convert.FromBase64String(shop.ParameterValue("jwt-signing-key")), out _);
            var jwks = await (await shop.Client().GetAsync("/users/.well-known/jwks.json")).JsonAsync();
            key = new ECDsaSecurityKey(ecdsa) { KeyId = jwks.GetProperty("keys")[0].GetProperty("kid").GetString() };
        }
        var genuine = new JsonWebToken(user.Token);
        var end = expires ?? DateTime.UtcNow.AddMinutes(10);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "at+jwt",
            Issuer = "shop-users",
            Audience = "shop",
            IssuedAt = end.AddMinutes(-10),
            NotBefore = end.AddMinutes(-10),
            Expires = end,
            Subject = new ClaimsIdentity([
                new Claim("sub", user.Id.ToString()), new Claim("role", "user"), new Claim("email", user.Email),
                new Claim("sst", genuine.GetPayloadValue<int>("sst").ToString(), ClaimValueTypes.Integer32),
                new Claim("sid", genuine.GetPayloadValue<string>("sid"))]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
        });
    }
}
