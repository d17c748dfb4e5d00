using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Shop.ServiceDefaults;

/// <summary>Problem answers every service gives the same way.</summary>
public static class ShopProblems
{
    /// <summary>How long a client should wait before retrying a 503 (a dependency or the database away).</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>The <c>Retry-After</c> header value for <see cref="RetryAfterSeconds"/>.</summary>
    public static readonly string RetryAfterHeader = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The answer to a body over <see cref="RequestLimits.MaxBodyBytes"/>, in one wording whoever
    /// refuses it: the gateway on its Content-Length or while forwarding a chunked one, or a service.
    /// </summary>
    public static ProblemDetails BodyTooLarge() =>
        new() { Status = StatusCodes.Status413PayloadTooLarge, Title = "Request body too large", Detail = "The request body is larger than 1 MiB." };

    /// <param name="detail">Which thing was not found, e.g. "No such order."</param>
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);
}
