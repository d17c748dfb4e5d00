using System.Net;
using System.Net.Security;
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
/// HTTP/1.1 a bare 414 or 431 with no body, over HTTP/2 a bare 431, a reset stream or connection, where every other error
/// of the Shop is a problem that says what to do. The gateway now takes Kestrel's default limits to the byte, measured as
/// Kestrel measures each protocol, and refuses what is over them with a problem. Real Kestrel servers on loopback: one
/// with Kestrel's defaults (what the gateway took before), one set up as the gateway is, with its edge rules.
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

    /// <summary>
    /// Over HTTP/2 Kestrel measures fields, not lines: the request line is the method, scheme, authority and path (no
    /// separators) against 8192, the headers the names and values of every field, pseudo-header fields included, against
    /// 32768 bytes and 100 fields. A raw HTTP/2 client: HttpClient would itself refuse to send headers over the server's
    /// advertised list size, counting 32 bytes a field as Kestrel does not, once it has read the server's settings.
    /// </summary>
    public static TheoryData<string, int> Http2Requests => new()
    {
        { "request line of 8192 bytes", 0 },
        { "request line of 8193 bytes", 414 },
        { "path of 12 KiB", 414 },
        { "header fields of 32768 bytes", 0 },
        { "header fields of 32769 bytes", 431 },
        { "100 header fields", 0 },
        { "101 header fields", 431 },
        { "100 header fields of 32768 bytes", 0 },
    };

    [Theory]
    [MemberData(nameof(Http2Requests))]
    public async Task Over_http_2_the_gateway_refuses_what_kestrels_defaults_refused_to_the_byte(string request, int refusedWith)
    {
        await using var kestrelDefaults = await LoopbackApp.StartAsync(app => app.Run(_ => Task.CompletedTask), ListenOverTls);
        await using var gateway = await GatewayEdgeAsync(tls: true);

        var before = await Http2ExchangeAsync(kestrelDefaults, request);
        var now = await Http2ExchangeAsync(gateway, request);

        Assert.True((before.Status == 200) == (refusedWith == 0), $"{request}: Kestrel's defaults answered {before}");
        if (refusedWith == 0)
        {
            Assert.True(now.Status == 200, $"{request}, taken by Kestrel's defaults, is refused by the gateway: {now}");
            return;
        }
        Assert.True(now.Status == refusedWith, $"{request}: the gateway should answer {refusedWith} with a problem, answered {now}");
        AssertSaysWhatToDo(JsonDocument.Parse(now.Body).RootElement, refusedWith);
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

    /// <summary>
    /// Kestrel takes a Host (over HTTP/2 an <c>:authority</c>) of host characters at any length and any port number, and
    /// the gateway sends it on to the services as X-Forwarded-Host, which they take as the public host. What no host name
    /// can be is refused at the edge with a problem that says what to send; the longest name there can be is taken.
    /// </summary>
    public static TheoryData<string, string, int> Hosts => new()
    {
        { "HTTP/1.1", "name of 255 bytes with a port", 200 },
        { "HTTP/1.1", "IPv4 address with a port", 200 },
        { "HTTP/1.1", "IPv6 address with a port", 200 },
        { "HTTP/1.1", "name with an underscore", 200 },
        { "HTTP/1.1", "name of 256 bytes", 400 },
        { "HTTP/1.1", "label of 64 bytes", 400 },
        { "HTTP/1.1", "empty label", 400 },
        { "HTTP/1.1", "port over 65535", 400 },
        { "HTTP/1.1", "name of 20 KiB", 400 },
        { "HTTP/2", "name of 255 bytes with a port", 200 },
        { "HTTP/2", "IPv6 address with a port", 200 },
        { "HTTP/2", "name of 20 KiB", 400 },
        { "HTTP/2", "port over 65535", 400 },
    };

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task A_host_no_host_name_can_be_is_refused_with_a_problem_that_says_what_to_send(string protocol, string host, int status)
    {
        var value = host switch
        {
            "name of 255 bytes with a port" => string.Join('.', Enumerable.Repeat(new string('h', 63), 4)) + ":8080",
            "IPv4 address with a port" => "127.0.0.1:8080",
            "IPv6 address with a port" => "[::1]:8080",
            "name with an underscore" => "shop_gateway",
            "name of 256 bytes" => string.Join('.', Enumerable.Repeat(new string('h', 63), 4)) + "h",
            "label of 64 bytes" => new string('h', 64) + ".example",
            "empty label" => "shop..example",
            "port over 65535" => "localhost:65536",
            "name of 20 KiB" => new string('h', 20 * 1024),
            _ => throw new ArgumentOutOfRangeException(nameof(host)),
        };
        await using var gateway = await GatewayEdgeAsync(tls: protocol == "HTTP/2");

        int answered;
        string body;
        if (protocol == "HTTP/2")
        {
            var answer = await Http2ExchangeAsync(gateway, "GET /", authority: value);
            (answered, body) = (answer.Status, answer.Refusal + answer.Body);
        }
        else
        {
            var answer = await ExchangeAsync(gateway, "GET /", host: value);
            // The body is one small JSON object, whole or as a single chunk: from its first brace to its last.
            (answered, body) = (StatusOf(answer), answer.Contains('{') ? answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)] : answer);
        }

        Assert.True(answered == status, $"{protocol}, a host {host}: answered {answered}, not {status}: {body}");
        if (status == 400)
        {
            var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString();
            Assert.Contains("Send the host name", detail);
        }
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
                ListenOverTls(services);
            }
        });

    /// <summary>HTTPS on a free loopback port: HTTP/1.1 and HTTP/2, chosen by ALPN.</summary>
    private static void ListenOverTls(IServiceCollection services) =>
        services.Configure<KestrelServerOptions>(o => o.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(SelfSignedCertificate())));

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    /// <summary>The request named <paramref name="request"/>, sent as raw HTTP/1.1 over a new connection; the whole answer.</summary>
    private static async Task<string> ExchangeAsync(WebApplication server, string request, string? host = null)
    {
        var address = new Uri(LoopbackApp.Address(server));
        var hostLine = $"Host: {host ?? address.Authority}\r\n";
        const string Close = "Connection: close\r\n";
        // Each header line is counted with its CRLF; the request line as well.
        string Line(string target) => $"GET {target} HTTP/1.1\r\n";
        string Filler(int lineBytes) => $"X-Filler: {new string('f', lineBytes - "X-Filler: \r\n".Length)}\r\n";
        string Fields(int count) => string.Concat(Enumerable.Range(0, count - 2).Select(i => $"X-Field-{i}: v\r\n"));
        var text = request switch
        {
            "GET /" => Line("/") + hostLine + Close,
            "request line of 8192 bytes" => Line("/" + new string('a', 8192 - Line("/").Length)) + hostLine + Close,
            "request line of 8193 bytes" => Line("/" + new string('a', 8193 - Line("/").Length)) + hostLine + Close,
            "path of 20 KiB" => Line("/" + new string('a', 20 * 1024)) + hostLine + Close,
            "header lines of 32768 bytes" => Line("/") + hostLine + Close + Filler(32768 - hostLine.Length - Close.Length),
            "header lines of 32769 bytes" => Line("/") + hostLine + Close + Filler(32769 - hostLine.Length - Close.Length),
            "headers of 40 KiB" => Line("/") + hostLine + Close + Filler(40 * 1024),
            "100 header fields" => Line("/") + hostLine + Close + Fields(100),
            "101 header fields" => Line("/") + hostLine + Close + Fields(101),
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

    /// <summary>What a server answered to a request over HTTP/2: its status and body, or how it refused to answer.</summary>
    private sealed record Http2Answer(int Status, string Body, string Refusal)
    {
        public override string ToString() => Refusal.Length > 0 ? Refusal : $"{Status} {Body[..Math.Min(Body.Length, 300)]}";
    }

    /// <summary>
    /// The request named <paramref name="request"/> over a new HTTP/2 connection (TLS, ALPN h2), its fields written as
    /// literals (no Huffman, no indexing) so that each is as long as Kestrel measures it decoded.
    /// </summary>
    private static async Task<Http2Answer> Http2ExchangeAsync(WebApplication server, string request, string? authority = null)
    {
        var address = new Uri(LoopbackApp.Address(server));
        authority ??= address.Authority;
        // Kestrel's request line over HTTP/2: method + scheme + authority + path; its header bytes: name + value of each field.
        var lineFixed = "GET".Length + "https".Length + authority.Length;
        var pseudoBytes = ":method".Length + "GET".Length + ":scheme".Length + "https".Length + ":authority".Length + authority.Length + ":path".Length;
        string Path(int lineBytes) => "/" + new string('a', lineBytes - lineFixed - 1);
        (string, string)[] Filler(int fieldBytes) => [("x-filler", new string('f', fieldBytes - pseudoBytes - "/".Length - "x-filler".Length))];
        (string, string)[] Fields(int count) => [.. Enumerable.Range(0, count - 4).Select(i => ($"x-field-{i}", "v"))];
        var (path, headers) = request switch
        {
            "GET /" => ("/", []),
            "request line of 8192 bytes" => (Path(8192), []),
            "request line of 8193 bytes" => (Path(8193), []),
            "path of 12 KiB" => ("/" + new string('a', 12 * 1024), []),
            "header fields of 32768 bytes" => ("/", Filler(32768)),
            "header fields of 32769 bytes" => ("/", Filler(32769)),
            "100 header fields" => ("/", Fields(100)),
            "101 header fields" => ("/", Fields(101)),
            "100 header fields of 32768 bytes" => ("/", [.. Fields(99), .. Filler(32768 - Fields(99).Sum(f => f.Item1.Length + f.Item2.Length))]),
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };
        var block = new MemoryStream();
        foreach (var (name, value) in ((string, string)[])[(":method", "GET"), (":scheme", "https"), (":authority", authority), (":path", path), .. headers])
        {
            block.WriteByte(0); // literal field without indexing, new name
            WriteString(block, name);
            WriteString(block, value);
        }

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        bound.CancelAfter(TimeSpan.FromSeconds(30));
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port, bound.Token);
        await using var tls = new SslStream(socket.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, bound.Token);
        var output = new MemoryStream();
        output.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
        WriteFrameHeader(output, 0, FrameSettings, 0, 0);
        // Frames of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE): HEADERS, then CONTINUATION.
        var fields = block.ToArray();
        for (var offset = 0; offset == 0 || offset < fields.Length; offset += MaxFrameBytes)
        {
            var length = Math.Min(MaxFrameBytes, fields.Length - offset);
            var last = offset + length == fields.Length;
            WriteFrameHeader(output, length, offset == 0 ? FrameHeaders : FrameContinuation, (byte)((offset == 0 ? FlagEndStream : 0) | (last ? FlagEndHeaders : 0)), 1);
            output.Write(fields, offset, length);
        }
        await tls.WriteAsync(output.ToArray(), bound.Token);

        var status = 0;
        var body = new StringBuilder();
        var frameHeader = new byte[9];
        while (true)
        {
            try
            {
                await tls.ReadExactlyAsync(frameHeader, bound.Token);
            }
            catch (EndOfStreamException)
            {
                return new Http2Answer(status, body.ToString(), "connection closed before the answer ended");
            }
            var payload = new byte[(frameHeader[0] << 16) | (frameHeader[1] << 8) | frameHeader[2]];
            await tls.ReadExactlyAsync(payload, bound.Token);
            var (type, flags, stream) = (frameHeader[3], frameHeader[4], frameHeader[5..9].Aggregate(0, (id, b) => (id << 8) | b) & int.MaxValue);
            switch (type)
            {
                case FrameGoAway:
                    return new Http2Answer(0, "", "the connection was closed (GOAWAY)");
                case FrameRstStream when stream == 1:
                    return new Http2Answer(0, "", "the stream was reset (RST_STREAM)");
                case FrameHeaders when stream == 1:
                    status = StatusOf(payload);
                    break;
                case FrameData when stream == 1:
                    body.Append(Encoding.UTF8.GetString(payload));
                    break;
            }
            if (stream == 1 && (type == FrameHeaders || type == FrameData) && (flags & FlagEndStream) != 0)
            {
                return new Http2Answer(status, body.ToString(), "");
            }
        }
    }

    private const byte FrameData = 0, FrameHeaders = 1, FrameRstStream = 3, FrameSettings = 4, FrameGoAway = 7, FrameContinuation = 9;
    private const byte FlagEndStream = 1, FlagEndHeaders = 4;
    private const int MaxFrameBytes = 16 * 1024;

    private static void WriteFrameHeader(Stream output, int length, byte type, byte flags, int stream) =>
        output.Write([(byte)(length >> 16), (byte)(length >> 8), (byte)length, type, flags, (byte)(stream >> 24), (byte)(stream >> 16), (byte)(stream >> 8), (byte)stream]);

    /// <summary>An HPACK string literal: its length as a 7-bit prefix integer (no Huffman), then its bytes.</summary>
    private static void WriteString(Stream output, string text)
    {
        var length = text.Length;
        if (length < 127)
        {
            output.WriteByte((byte)length);
        }
        else
        {
            output.WriteByte(127);
            for (length -= 127; length >= 128; length >>= 7)
            {
                output.WriteByte((byte)((length & 127) | 128));
            }
            output.WriteByte((byte)length);
        }
        output.Write(Encoding.ASCII.GetBytes(text));
    }

    /// <summary>
    /// The :status Kestrel writes first in an answer's header block: an indexed field from the static table (200, 204,
    /// 206, 304, 400, 404, 500) or a literal with the :status name (index 8) and three digits.
    /// </summary>
    private static int StatusOf(byte[] block) => block[0] switch
    {
        >= 0x88 and <= 0x8e => new[] { 200, 204, 206, 304, 400, 404, 500 }[block[0] - 0x88],
        0x08 or 0x48 when block[1] == 3 => int.Parse(Encoding.ASCII.GetString(block, 2, 3), System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidDataException($"An answer's header block begins with 0x{block[0]:x2}, not a :status field."),
    };

    private static int StatusOf(string answer) => int.Parse(answer.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
}
