using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Shop.ServiceDefaults;

/// <summary>
/// The health body of every probe: <c>{"status":"healthy"}</c>, <c>degraded</c> (still 200, e.g. Redis down)
/// or <c>unhealthy</c> with 503 and the failing checks named — never exception text or host names.
/// </summary>
public static class HealthResponse
{
    public static readonly IDictionary<HealthStatus, int> StatusCodes = new Dictionary<HealthStatus, int>
    {
        [HealthStatus.Healthy] = Microsoft.AspNetCore.Http.StatusCodes.Status200OK,
        [HealthStatus.Degraded] = Microsoft.AspNetCore.Http.StatusCodes.Status200OK,
        [HealthStatus.Unhealthy] = Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable,
    };

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var body = new Dictionary<string, object>
        {
            ["status"] = report.Status.ToString().ToLowerInvariant(),
        };
        var notHealthy = report.Entries
            .Where(e => e.Value.Status != HealthStatus.Healthy)
            .ToDictionary(e => e.Key, e => e.Value.Status.ToString().ToLowerInvariant());
        if (notHealthy.Count > 0)
        {
            body["checks"] = notHealthy;
        }
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
