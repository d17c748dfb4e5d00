using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

public static class ProblemDetailsSetup
{
    public static IServiceCollection AddShopProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            ctx.ProblemDetails.Extensions.Remove("exception");
            ctx.ProblemDetails.Extensions["request_id"] = ctx.HttpContext.TraceIdentifier;
            if (Activity.Current is { } activity)
            {
                ctx.ProblemDetails.Extensions["trace_id"] = activity.TraceId.ToString();
            }
            ctx.ProblemDetails.Type ??= $"https://httpstatuses.io/{ctx.ProblemDetails.Status}";
            ctx.ProblemDetails.Detail ??= FallbackDetail(ctx.HttpContext, ctx.ProblemDetails.Status ?? ctx.HttpContext.Response.StatusCode);
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OutageLog>();
        services.AddExceptionHandler<ShopExceptionHandler>();
        return services;
    }

    /// <summary>
    /// The detail of a problem nobody wrote one for: the answers the framework gives by itself (no route
    /// matched, a method the route does not take, a bare status code page). Every problem body carries a
    /// detail a person can act on.
    /// </summary>
    internal static string FallbackDetail(HttpContext http, int status)
    {
        var method = http.Request.Method;
        var path = http.Request.Path.Value ?? "/";
        // The path is the caller's own text, echoed so a typo is easy to see; a long one is cut.
        var shown = path.Length <= MaxPathShown ? path : string.Concat(path.AsSpan(0, MaxPathShown), "…");
        return status switch
        {
            StatusCodes.Status404NotFound =>
                $"Nothing here answers {method} {shown}. Check the path against the API reference (/api-docs).",
            StatusCodes.Status405MethodNotAllowed when http.Response.Headers.Allow is { Count: > 0 } allow =>
                $"{shown} does not take {method}; it takes {allow}.",
            StatusCodes.Status405MethodNotAllowed =>
                $"{shown} does not take {method}. Check the method against the API reference (/api-docs).",
            >= 500 =>
                $"The request failed ({status} {ReasonPhrases.GetReasonPhrase(status)}). Try again shortly; if it keeps failing, quote the request id when reporting it.",
            _ =>
                $"The request was refused ({status} {ReasonPhrases.GetReasonPhrase(status)}). Check it against the API reference (/api-docs).",
        };
    }

    private const int MaxPathShown = 120;
}

/// <summary>
/// Turns bad requests (malformed JSON, wrong types, oversized bodies) into 400/413 problem+json with
/// <c>errors</c>, a dependency that is away into 503 with Retry-After (its outage said by <see cref="OutageLog"/>, not
/// once per request), and anything unexpected into a bare 500 — never a stack trace or SQL text.
/// </summary>
public sealed class ShopExceptionHandler(IProblemDetailsService problems, ILogger<ShopExceptionHandler> logger, OutageLog outages) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        switch (exception)
        {
            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge:
                problem = ShopProblems.BodyTooLarge();
                break;
            case BadHttpRequestException bad:
                var (field, twice) = FindJsonField(bad);
                var parameter = field is null ? FindParameter(context, bad) : null;
                var message = twice ? "Sent more than once."
                    : field is not null ? "The value has the wrong type or format."
                    : parameter is not null ? "The value has the wrong format."
                    : "The request body is not valid JSON for this operation.";
                problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field ?? parameter ?? "body"] = [message] })
                {
                    Status = bad.StatusCode,
                    Title = "Invalid request",
                    Detail = twice ? $"'{field}' is sent more than once in the JSON body. Send each property once and try again."
                        : field is not null ? $"'{field}' in the JSON body has the wrong type or format. Send it as the API reference (/api-docs) describes and try again."
                        : parameter is not null ? $"The parameter '{parameter}' has the wrong format. Send it as the API reference (/api-docs) describes and try again."
                        : "The request body is not valid JSON for this operation (malformed, empty or cut short). Send a JSON object as the API reference (/api-docs) describes and try again.",
                };
                break;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true; // the client left; nobody to answer
            case ServiceUnavailableException unavailable:
                if (unavailable.RefusedKeyStatus is not null)
                {
                    // Looks like an outage to the client, but only an operator can end it, and no health check shows it:
                    // an Error, said when it begins and summed up at Error while it lasts, not a red line per request.
                    outages.Refused(unavailable.Dependency, unavailable.Message, LogLevel.Error);
                }
                else
                {
                    outages.Refused(unavailable.Dependency, unavailable.InnerException?.Message ?? "no answer it could use");
                }
                problem = new ProblemDetails { Status = 503, Title = "Service temporarily unavailable", Detail = $"A service this request depends on ({unavailable.Dependency}{(unavailable.Needed is { } needed ? $" ({needed})" : "")}) is unavailable. Try again shortly." };
                context.Response.Headers.RetryAfter = ShopProblems.RetryAfterHeader;
                break;
            case var _ when ShopDatabaseExtensions.IsContention(exception):
                // Not an outage: the database answered, and aborted this request's transaction for another one on the same
                // rows. The services lock rows in one order and run at read committed, so a deadlock is a bug to find: an Error.
                logger.LogError(exception, "Database contention aborted the request's transaction (nothing of it was saved)");
                problem = new ProblemDetails { Status = 503, Title = "Service temporarily unavailable", Detail = "This request collided with another changing the same data at the same moment, and nothing of it was saved. Send it again." };
                context.Response.Headers.RetryAfter = ShopProblems.RetryAfterHeader;
                break;
            case var _ when ShopDatabaseExtensions.IsUnavailability(exception):
                // Refused, dropped or timed out, or no pooled connection free in time: the database is away or
                // overloaded, which a retry shortly may not find. Not a bug in this service.
                outages.Refused(OwnDatabase.Of(context.RequestServices).Name, exception.GetBaseException().Message);
                if (exception.GetBaseException() is IOException or System.Net.Sockets.SocketException)
                {
                    // The connection broke (a restarted server): its pooled siblings are as dead, and each
                    // would fail one more request before the pool notices. Open fresh ones instead.
                    Npgsql.NpgsqlConnection.ClearAllPools();
                }
                problem = new ProblemDetails { Status = 503, Title = "Service temporarily unavailable", Detail = "This service's database is unavailable or overloaded. Try again shortly." };
                context.Response.Headers.RetryAfter = ShopProblems.RetryAfterHeader;
                break;
            default:
                logger.LogError(exception, "Unhandled exception");
                problem = new ProblemDetails { Status = 500, Title = "Internal server error", Detail = "Something went wrong. Quote the request id when reporting it." };
                break;
        }

        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }


    /// <summary>
    /// A route, query or header value that did not bind: "Failed to bind parameter "int limit" from "x"." → "limit".
    /// The message names the handler's parameter; the client sent the name it binds from (<c>[FromQuery(Name = "in_stock")]
    /// bool? inStock</c> → "in_stock"), which the endpoint that failed still tells.
    /// </summary>
    private static string? FindParameter(HttpContext context, BadHttpRequestException exception)
    {
        if (System.Text.RegularExpressions.Regex.Match(exception.Message, "^Failed to bind parameter \"[^\" ]+ ([A-Za-z0-9_]+)\"") is not { Success: true } m)
        {
            return null;
        }
        var name = m.Groups[1].Value;
        var handler = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<System.Reflection.MethodInfo>();
        var attributes = handler?.GetParameters().FirstOrDefault(p => p.Name == name)?.GetCustomAttributes(inherit: false) ?? [];
        return attributes.Select(a => a switch
        {
            IFromQueryMetadata query => query.Name,
            IFromRouteMetadata route => route.Name,
            IFromHeaderMetadata header => header.Name,
            _ => null,
        }).FirstOrDefault(n => !string.IsNullOrEmpty(n)) ?? name;
    }

    /// <summary>
    /// The JSON field a body failed on, and whether it failed by coming twice (<see cref="ServiceDefaultsExtensions.ConfigureJson"/>
    /// refuses that). System.Text.Json says the latter only in its message; ProblemDetailTests' malformed-body test
    /// notices if the wording changes.
    /// </summary>
    private static (string? Field, bool Twice) FindJsonField(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is JsonException { Path: { Length: > 2 } path } json)
            {
                // "$.items[0].qty" → "items[0].qty"
                return (path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path,
                    json.Message.StartsWith("Duplicate propert", StringComparison.Ordinal));
            }
        }
        return (null, false);
    }
}

/// <summary>Thrown when a downstream service cannot answer in time; answered as 503.</summary>
/// <param name="dependency">The dependency's one name, its outage's in <see cref="OutageLog"/> however a request met it.</param>
/// <param name="needed">What the request needed of it, for the caller's 503 (the access tokens' signing keys).</param>
public sealed class ServiceUnavailableException(string dependency, Exception? inner = null, int? refusedKeyStatus = null, string? needed = null)
    : Exception(refusedKeyStatus is { } status
        ? $"{dependency} refused this service's key ({status}): its ServiceAuth:Callers do not hold this service's ServiceAuth:ApiKey (a key rotation step missed or done out of order?). Every call to it fails until they match."
        : $"{dependency} is unavailable", inner)
{
    public string Dependency { get; } = dependency;

    /// <summary>
    /// What the request needed of <see cref="Dependency"/>, said in the 503's detail; not part of the outage's name, so
    /// one dependency away is one outage (one Warning, one end line) whatever each request wanted of it.
    /// </summary>
    public string? Needed { get; } = needed;

    /// <summary>
    /// Set when the dependency answered but refused this service's key (401 or 403): a configuration error for
    /// an operator to fix, not an outage that passes. The caller's client still answers 503.
    /// </summary>
    public int? RefusedKeyStatus { get; } = refusedKeyStatus;

    /// <summary>For an internal API's answer that is neither a success nor a refusal the caller expects.</summary>
    public static ServiceUnavailableException FromAnswer(string dependency, HttpResponseMessage response) =>
        response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden
            ? new(dependency, refusedKeyStatus: (int)response.StatusCode)
            : new(dependency);
}
