using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Shop.Gateway;

/// <summary>
/// Holds a request to how long a request line and how large the headers the gateway takes (<see cref="RequestLimits"/>,
/// shared with the services, which take that plus what the gateway adds): Kestrel's defaults, to the byte, as it took before.
/// Kestrel refused what was over them itself, before any of our code ran, with nothing saying why (over HTTP/1.1 a 414 or
/// 431 with an empty body, over HTTP/2 a reset stream or connection). Kestrel's own limits are now a ceiling above them, so
/// such a request reaches <see cref="GatewayEdgeMiddleware"/>, which refuses it with a problem; nothing more passes than
/// before. Above the ceiling Kestrel still refuses bare; a request line Kestrel cannot parse (400) never becomes a request.
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
        // An HTTP/2 request's path, like each of its headers, is one field, otherwise refused over 16 KiB (a reset stream).
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
                context.Features.Set(new OversizedRequest(refusal));
            }
            return next(context);
        });
        return app;
    }

    /// <summary>Set on a request over the limits: the problem to answer it with.</summary>
    internal sealed record OversizedRequest(ProblemDetails Problem);

    /// <summary>
    /// Measured as Kestrel measures an HTTP/1.1 request, whichever protocol carried it: the request line with its CRLF, and
    /// each header line as <c>name: value</c> with its CRLF (one byte a character: Kestrel takes no other header bytes).
    /// </summary>
    internal static ProblemDetails? Refusal(HttpContext context)
    {
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (request.PathBase + request.Path + request.QueryString).ToString();
        var lineBytes = request.Method.Length + 1 + target.Length + " HTTP/1.1\r\n".Length;
        if (lineBytes > RequestLimits.EdgeMaxRequestLineBytes)
        {
            return new ProblemDetails
            {
                Status = StatusCodes.Status414UriTooLong,
                Title = "URI Too Long",
                Detail = $"The request line (method, path with its query, protocol) is {lineBytes} bytes; the Shop takes at most {RequestLimits.EdgeMaxRequestLineBytes}. "
                    + "Shorten the path or the query string.",
            };
        }
        long headerBytes = 0;
        var fields = 0;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                headerBytes += name.Length + ": ".Length + (value?.Length ?? 0) + "\r\n".Length;
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
