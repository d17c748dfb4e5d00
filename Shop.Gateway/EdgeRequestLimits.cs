using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Shop.Gateway;

/// <summary>
/// Holds a request to how long a request line and how large the headers the gateway takes (<see cref="RequestLimits"/>,
/// shared with the services, which take that plus what the gateway adds): Kestrel's defaults, to the byte, as it took before.
/// Kestrel refused what was over them itself, before any of our code ran, with nothing saying why (over HTTP/1.1 a 414 or
/// 431 with an empty body, over HTTP/2 a bare 431 or a reset stream). Kestrel's own limits are now a ceiling above them, so
/// such a request reaches <see cref="GatewayEdgeMiddleware"/>, which refuses it with a problem; nothing more passes than
/// before. Above the ceiling Kestrel still refuses bare; a request line Kestrel cannot parse (400) never becomes a request.
/// A Host no host can be is refused here too (<see cref="ClientHost"/>): the services get it as X-Forwarded-Host.
/// </summary>
internal static class EdgeRequestLimits
{
    // Kestrel holds up to 1 MiB of a connection's input unparsed whatever these are (MaxRequestBufferSize); the ceiling
    // bounds what it parses into strings before the edge rules refuse the request.
    private const int KestrelCeilingBytes = 64 * 1024;

    public static void ConfigureKestrel(KestrelServerOptions options)
    {
        options.Limits.MaxRequestLineSize = KestrelCeilingBytes;
        options.Limits.MaxRequestHeadersTotalSize = KestrelCeilingBytes;
        options.Limits.MaxRequestHeaderCount = 2 * RequestLimits.EdgeMaxHeaderCount;
        // Each HTTP/2 field (the path too) is otherwise refused over 32 KiB, the connection with it: at Kestrel's defaults
        // the 32 KiB of all fields came first; under the ceiling it would refuse bare what the edge rules should.
        options.Limits.Http2.MaxRequestHeaderFieldSize = KestrelCeilingBytes;
    }

    /// <summary>
    /// Measures each request as it arrived, first in the pipeline: the request id and forwarded-headers middleware change
    /// its headers. The refusal is written by <see cref="GatewayEdgeMiddleware"/>, after the request id is set.
    /// </summary>
    public static WebApplication UseEdgeRequestLimits(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (Refusal(context) is { } refusal)
            {
                context.Features.Set(new RefusedRequest(refusal));
            }
            return next(context);
        });
        return app;
    }

    /// <summary>Set on a request over the limits, or naming no host (<see cref="ClientHost"/>): the problem to answer it with.</summary>
    internal sealed record RefusedRequest(ProblemDetails Problem);

    /// <summary>
    /// Measured as Kestrel measures the request's protocol. HTTP/1.1: the request line with its CRLF, and each header line
    /// as <c>name: value</c> with its CRLF (one byte a character: Kestrel takes no other header bytes). HTTP/2 (and HTTP/3,
    /// which Kestrel measures alike; the gateway does not enable it): no lines but fields. The request line is the method,
    /// scheme, authority and path with its query, nothing between; the headers are each field's name and value, the
    /// pseudo-header fields (<c>:method</c>, <c>:scheme</c>, <c>:authority</c>, <c>:path</c>) counted as fields too.
    /// <c>:authority</c>, which Kestrel puts in Host, is measured under its own name. What the fields were as sent is gone:
    /// Host sent instead of <c>:authority</c> is measured 6 bytes long, and cookie fields Kestrel merged into one are
    /// measured as that one.
    /// </summary>
    internal static ProblemDetails? Refusal(HttpContext context)
    {
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (request.PathBase + request.Path + request.QueryString).ToString();
        var fieldsOnly = HttpProtocol.IsHttp2(request.Protocol) || HttpProtocol.IsHttp3(request.Protocol);
        // Kestrel puts :authority in Host; over HTTP/1.1 Host is a header line like any other.
        var host = request.Headers.Host.ToString();
        var authority = fieldsOnly ? host : "";
        // First: a 20 KB :authority is no request line to shorten.
        if (ClientHost.Refusal(host, fieldsOnly) is { } badHost)
        {
            return badHost;
        }
        var lineBytes = fieldsOnly
            ? request.Method.Length + request.Scheme.Length + authority.Length + target.Length
            : request.Method.Length + 1 + target.Length + " HTTP/1.1\r\n".Length;
        if (lineBytes > RequestLimits.EdgeMaxRequestLineBytes)
        {
            return new ProblemDetails
            {
                Status = StatusCodes.Status414UriTooLong,
                Title = "URI Too Long",
                Detail = $"The request line ({(fieldsOnly ? "method, scheme, authority, path with its query" : "method, path with its query, protocol")}) is {lineBytes} bytes; the Shop takes at most {RequestLimits.EdgeMaxRequestLineBytes}. "
                    + "Shorten the path or the query string.",
            };
        }
        long headerBytes = 0;
        var fields = 0;
        var lineBytesPerField = ": ".Length + "\r\n".Length;
        if (fieldsOnly)
        {
            headerBytes = ":method".Length + request.Method.Length + ":scheme".Length + request.Scheme.Length + ":path".Length + target.Length
                + (authority.Length > 0 ? ":authority".Length - "Host".Length : 0);
            fields = 3;
            lineBytesPerField = 0;
        }
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                headerBytes += name.Length + (value?.Length ?? 0) + lineBytesPerField;
                fields++;
            }
        }
        if (headerBytes > RequestLimits.EdgeMaxHeaderBytes || fields > RequestLimits.EdgeMaxHeaderCount)
        {
            return new ProblemDetails
            {
                Status = StatusCodes.Status431RequestHeaderFieldsTooLarge,
                Title = "Request Header Fields Too Large",
                Detail = $"The request's headers are {headerBytes} bytes in {fields} fields; the Shop takes at most {RequestLimits.EdgeMaxHeaderBytes} bytes and {RequestLimits.EdgeMaxHeaderCount} fields. "
                    + "Send fewer or smaller headers: large cookies are the usual cause.",
            };
        }
        return null;
    }
}
