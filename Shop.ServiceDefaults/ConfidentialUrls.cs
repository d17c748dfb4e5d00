using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Shop.ServiceDefaults;

/// <summary>
/// Outgoing URLs whose path is a credential (a webhook subscriber's URL is often a capability: whoever knows
/// it can post to it). A client marked with <see cref="KeepUrlPathsOutOfTelemetry"/> is traced with scheme,
/// host and port only, so the exported spans (<c>url.full</c>) do not hand the secret to whoever reads the
/// telemetry, and it has none of IHttpClientFactory's loggers, whose messages and scopes carry the path.
/// </summary>
public static class ConfidentialUrls
{
    private static readonly HttpRequestOptionsKey<bool> Confidential = new("Shop.ConfidentialUrl");

    /// <summary>What a confidential URL's path and query become in a span.</summary>
    public const string RedactedPath = "/Redacted";

    public static IHttpClientBuilder KeepUrlPathsOutOfTelemetry(this IHttpClientBuilder builder) =>
        builder.RemoveAllLoggers().AddHttpMessageHandler(() => new MarkConfidential());

    /// <summary>The HttpClient instrumentation's enrichment: runs when the request's span starts.</summary>
    internal static void Enrich(Activity activity, HttpRequestMessage request)
    {
        if (request.Options.TryGetValue(Confidential, out var confidential) && confidential && request.RequestUri is { IsAbsoluteUri: true } uri)
        {
            activity.SetTag("url.full", $"{uri.Scheme}://{uri.Authority}{RedactedPath}");
        }
    }

    private sealed class MarkConfidential : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Options.Set(Confidential, true);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
