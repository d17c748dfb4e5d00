using Microsoft.AspNetCore.Mvc;

namespace Shop.Gateway;

/// <summary>
/// Rules the gateway enforces before proxying: internal routes are never reachable from outside,
/// and oversized bodies are refused before a byte reaches a service.
/// </summary>
public sealed class GatewayEdgeMiddleware(RequestDelegate next, IProblemDetailsService problems, IHostEnvironment environment)
{
    // Only our own origin. Vite's dev server injects its HMR preamble and CSS as inline code, so
    // Development allows inline script and style; the production image (nginx) sends the strict policy.
    private readonly string _contentSecurityPolicy = environment.IsDevelopment()
        ? "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'self'; frame-ancestors 'none'; object-src 'none'"
        : "default-src 'self'; img-src 'self' data:; base-uri 'self'; frame-ancestors 'none'; object-src 'none'";

    public async Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = _contentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers.XFrameOptions = "DENY";
            }
            return Task.CompletedTask;
        });
        if (IsInternalPath(context.Request.Path))
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, "Not Found", "No such route.");
            return;
        }
        if (context.Request.ContentLength > ServiceDefaultsExtensions.MaxRequestBodyBytes)
        {
            await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large", "The request body is larger than 1 MiB.");
            return;
        }
        context.Request.Headers.Remove(SpaNavigationHeader);
        if (IsSpaNavigation(context.Request))
        {
            context.Request.Headers[SpaNavigationHeader] = "1";
        }
        await next(context);
    }

    /// <summary>Set by the gateway only; the "spa-navigation" route sends such requests to the web app.</summary>
    public const string SpaNavigationHeader = "X-Shop-Spa-Navigation";

    private static readonly string[] ApiPrefixes = ["/users", "/orders", "/inventory"];
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
        if (!ApiPrefixes.Any(p => path.StartsWithSegments(p)))
        {
            return false;
        }
        var segments = path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return !segments.Any(s => ApiDocumentSegments.Contains(s, StringComparer.OrdinalIgnoreCase));
    }

    // Any segment named "internal" (any case, after Kestrel's path normalisation) is service-to-service only.
    internal static bool IsInternalPath(PathString path) =>
        path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Any(s => s.Equals("internal", StringComparison.OrdinalIgnoreCase)) ?? false;

    private Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        }).AsTask();
    }
}
