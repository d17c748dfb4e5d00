using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Shop.Gateway;

namespace Shop.UnitTests.Gateway;

/// <summary>
/// A request line or headers over Kestrel's limits were refused by Kestrel itself, before any of the gateway's code: over
/// HTTP/1.1 a bare 414 or 431 with no body, over HTTP/2 a reset stream or connection, where every other error of the Shop
/// is a problem that says what to do. The gateway now takes Kestrel's default limits to the byte and refuses what is over
/// them with a problem. Real Kestrel servers on loopback: one with Kestrel's defaults (what the gateway took before),
/// one set up as the gateway is, with its edge rules.
/// </summary>
public sealed class EdgeRequestLimitsTests
{
    public static TheoryData<string, int> Requests => new()
    {
        { "request line of 8192 bytes", 0 },
        { "request line of 8193 bytes", 414 },
        { "path of 20 KiB", 414 },
        { "header lines of 32768 bytes", 0 },
        { "header lines of 32769 bytes", 431 },
        { "headers of 40 KiB", 431 },
        { "100 header fields", 0 },
        { "101 header fields", 431 },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Over_http_1_1_the_gateway_refuses_what_kestrels_defaults_refused_and_says_why_in_a_problem(string request, int refusedWith)
    {
        await using var kestrelDefaults = await LoopbackApp.StartAsync(app => app.Run(_ => Task.CompletedTask));
        await using var gateway = await GatewayEdgeAsync(tls: false);

        var before = await ExchangeAsync(kestrelDefaults, request);
        var now = await ExchangeAsync(gateway, request);

        Assert.Equal(refusedWith == 0 ? 200 : refusedWith, StatusOf(before));
        if (refusedWith == 0)
        {
            Assert.True(StatusOf(now) == 200, $"{request}, taken by Kestrel's defaults, is refused by the gateway:\n{now}");
            return;
        }
        Assert.True(StatusOf(now) == refusedWith && now.Contains("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase),
            $"{request}: the gateway should answer {refusedWith} with a problem, answered:\n{now[..Math.Min(now.Length, 400)]}");
        AssertSaysWhatToDo(JsonDocument.Parse(now[now.IndexOf('{')..(now.LastIndexOf('}') + 1)]).RootElement, refusedWith);
    }

    /// <summary>Over HTTP/2 (HTTPS at the gateway, docs/deploy.md "TLS") Kestrel reset the stream or refused to send: no answer at all.</summary>
    [Theory]
    [InlineData("path of 20 KiB", 414)]
    [InlineData("headers of 40 KiB", 431)]
    public async Task Over_http_2_a_request_over_the_limits_gets_the_same_problem(string request, int refusedWith)
    {
        await using var gateway = await GatewayEdgeAsync(tls: true);
        using var client = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
        var message = new HttpRequestMessage(HttpMethod.Get, LoopbackApp.Address(gateway) + (request.StartsWith("path") ? new string('a', 20 * 1024) : "x"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (request.StartsWith("headers"))
        {
            message.Headers.Add("X-Big", new string('b', 40 * 1024));
        }

        using var answer = await client.SendAsync(message, TestContext.Current.CancellationToken);

        Assert.Equal(HttpVersion.Version20, answer.Version);
        Assert.Equal(refusedWith, (int)answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        AssertSaysWhatToDo(JsonDocument.Parse(await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement, refusedWith);
    }

    private static void AssertSaysWhatToDo(JsonElement problem, int status)
    {
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(status == 414 ? "8192" : "32768", detail);
        Assert.Contains(status == 414 ? "Shorten" : "Send fewer", detail);
    }

    /// <summary>Kestrel set up as the gateway's, with the gateway's edge rules in front of an app that answers 200.</summary>
    private static Task<WebApplication> GatewayEdgeAsync(bool tls) => LoopbackApp.StartAsync(
        app =>
        {
            app.UseEdgeRequestLimits();
            app.UseMiddleware<GatewayEdgeMiddleware>();
            app.Run(_ => Task.CompletedTask);
        },
        services =>
        {
            services.AddProblemDetails();
            services.Configure<KestrelServerOptions>(EdgeRequestLimits.ConfigureKestrel);
            if (tls)
            {
                services.Configure<KestrelServerOptions>(o => o.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(SelfSignedCertificate())));
            }
        });

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    /// <summary>The request named <paramref name="request"/>, sent as raw HTTP/1.1 over a new connection; the whole answer.</summary>
    private static async Task<string> ExchangeAsync(WebApplication server, string request)
    {
        var address = new Uri(LoopbackApp.Address(server));
        var host = $"Host: {address.Authority}\r\n";
        const string Close = "Connection: close\r\n";
        // Each header line is counted with its CRLF; the request line as well.
        string Line(string target) => $"GET {target} HTTP/1.1\r\n";
        string Filler(int lineBytes) => $"X-Filler: {new string('f', lineBytes - "X-Filler: \r\n".Length)}\r\n";
        string Fields(int count) => string.Concat(Enumerable.Range(0, count - 2).Select(i => $"X-Field-{i}: v\r\n"));
        var text = request switch
        {
            "request line of 8192 bytes" => Line("/" + new string('a', 8192 - Line("/").Length)) + host + Close,
            "request line of 8193 bytes" => Line("/" + new string('a', 8193 - Line("/").Length)) + host + Close,
            "path of 20 KiB" => Line("/" + new string('a', 20 * 1024)) + host + Close,
            "header lines of 32768 bytes" => Line("/") + host + Close + Filler(32768 - host.Length - Close.Length),
            "header lines of 32769 bytes" => Line("/") + host + Close + Filler(32769 - host.Length - Close.Length),
            "headers of 40 KiB" => Line("/") + host + Close + Filler(40 * 1024),
            "100 header fields" => Line("/") + host + Close + Fields(100),
            "101 header fields" => Line("/") + host + Close + Fields(101),
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        } + "\r\n";
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port, TestContext.Current.CancellationToken);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), TestContext.Current.CancellationToken);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        bound.CancelAfter(TimeSpan.FromSeconds(30));
        return await new StreamReader(stream).ReadToEndAsync(bound.Token);
    }

    private static int StatusOf(string answer) => int.Parse(answer.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
}
