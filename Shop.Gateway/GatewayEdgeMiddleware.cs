using Microsoft.AspNetCore.Mvc;

namespace Shop.Gateway;

/// <summary>
/// Rules the gateway enforces before proxying: internal routes are never reachable from outside, a request line or
/// headers over <see cref="EdgeRequestLimits"/>, a Host that names no host and oversized bodies are refused before a
/// byte reaches a service, and CONNECT (no proxying) is refused.
/// </summary>
public sealed class GatewayEdgeMiddleware(RequestDelegate next, IProblemDetailsService problems, IHostEnvironment environment)
{
    /// <summary>
    /// The one Content-Security-Policy of the web app (the production image's nginx sends none: every page
    /// reaches a browser through here). Only our own origin; forms post only to it. Vite's dev server injects
    /// its HMR preamble and CSS as inline code, and its client waits for a restarted server from a worker made
    /// from a blob, so Development also allows inline script and style and blob workers.
    /// </summary>
    internal static string ContentSecurityPolicy(bool development) =>
        "default-src 'self'; "
        + (development ? "script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; " : "")
        + "img-src 'self' data:; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

    private readonly string _contentSecurityPolicy = ContentSecurityPolicy(environment.IsDevelopment());

    /// <summary>
    /// The shop needs no camera, microphone, location, payment handler, USB or motion sensors: whatever script got into a
    /// page (a compromised dependency) cannot ask the shopper for them. Features Chromium knows only, so it logs no warning.
    /// </summary>
    private const string PermissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    public async Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            // What a service behind the gateway says it runs on (the web image's nginx) is none of a client's business.
            headers.Remove("Server");
            // No answer may be sniffed into another type (a JSON body rendered as HTML).
            headers.XContentTypeOptions = "nosniff";
            if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
            {
                headers.ContentSecurityPolicy = _contentSecurityPolicy;
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers.XFrameOptions = "DENY";
                // A page another site opened (or that opened the shop) gets no handle on the shop's window: no
                // window.opener to navigate it to a look-alike sign-in, no cross-window leaks.
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Permissions-Policy"] = PermissionsPolicy;
            }
            else if (CarriesPersonalData(context.Request))
            {
                // Personal data and tokens must not stay in a browser's or a shared proxy's cache.
                headers.CacheControl = "no-store";
            }
            return Task.CompletedTask;
        });
        if (context.Features.Get<EdgeRequestLimits.RefusedRequest>() is { } refused)
        {
            await WriteAsync(context, refused.Problem);
            return;
        }
        if (HttpMethods.IsConnect(context.Request.Method)
            && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true })
        {
            // The gateway is no proxy, and YARP cannot forward CONNECT: every open-proxy probe was answered 502, as if
            // a service were broken, with a warning and its stack trace in the log. An extended CONNECT (a WebSocket
            // over HTTP/2, RFC 8441) is not a tunnel request: YARP forwards it.
            context.Response.Headers.Allow = ApiMethods;
            await WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Method Not Allowed",
                $"The Shop is not a proxy and does not take CONNECT. Its API takes {ApiMethods}, as the API reference (/api-docs) describes.");
            return;
        }
        if (IsInternalPath(context.Request.Path))
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, "Not Found", "No such route.");
            return;
        }
        if (context.Request.ContentLength > RequestLimits.MaxBodyBytes)
        {
            await WriteAsync(context, ShopProblems.BodyTooLarge());
            return;
        }
        context.Request.Headers.Remove(SpaNavigationHeader);
        if (IsSpaNavigation(context.Request))
        {
            context.Request.Headers[SpaNavigationHeader] = "1";
        }
        await next(context);
    }

    /// <summary>
    /// The methods the services' routes take, named in the answer to a method the gateway refuses. YARP's routes take every
    /// method, so this is kept by hand: ProblemDetailTests checks it against the APIs' OpenAPI documents.
    /// </summary>
    private const string ApiMethods = "GET, HEAD, POST, PATCH, DELETE";

    /// <summary>Set by the gateway only; the "spa-navigation" route sends such requests to the web app.</summary>
    public const string SpaNavigationHeader = "X-Shop-Spa-Navigation";

    private static readonly string[] ApiDocumentSegments = ["openapi", "healthz", ".well-known"];

    /// <summary>
    /// A browser opening <c>/orders/123</c> wants the SPA's page, not the JSON API: a GET that accepts
    /// HTML under an API prefix goes to the web app, except the APIs' own documents (OpenAPI, health, JWKS).
    /// </summary>
    internal static bool IsSpaNavigation(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            return false;
        }
        var accept = request.Headers.Accept.ToString();
        if (!accept.Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var path = request.Path;
        if (!IsApiPath(path))
        {
            return false;
        }
        var segments = path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return !segments.Any(s => ApiDocumentSegments.Contains(s, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// An API answer to a signed-in request (bearer token or cookie), or any Users answer (accounts and
    /// tokens, including the anonymous sign-in that returns them). The SPA's files stay cacheable.
    /// </summary>
    internal static bool CarriesPersonalData(HttpRequest request) =>
        request.Path.StartsWithSegments("/users")
        || ((request.Headers.Authorization.Count > 0 || request.Headers.Cookie.Count > 0) && IsApiPath(request.Path));

    private static bool IsApiPath(PathString path) => GatewayRoutes.Apis.Any(api => path.StartsWithSegments(api.Prefix));

    // Any segment named "internal" (any case, after Kestrel's path normalisation) is service-to-service only.
    // Checked on every request, so without allocating.
    internal static bool IsInternalPath(PathString path)
    {
        var value = path.Value.AsSpan();
        foreach (var segment in value.Split('/'))
        {
            if (value[segment].Equals("internal", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private Task WriteAsync(HttpContext context, int status, string title, string detail) =>
        WriteAsync(context, new ProblemDetails { Status = status, Title = title, Detail = detail });

    private Task WriteAsync(HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status!.Value;
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}
