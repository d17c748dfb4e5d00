using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Shop.ServiceDefaults;

/// <summary>
/// Cross-cutting setup shared by every Shop service: telemetry, health, service discovery,
/// resilient HttpClients, ProblemDetails errors, snake_case JSON and request ids.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddTransient<RequestIdPropagationHandler>();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddHttpMessageHandler<RequestIdPropagationHandler>();
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        // Every resilience pipeline's telemetry (the standard handlers above and the internal clients' own): see ResilienceLogLevels.
        builder.Services.PostConfigureAll<Polly.Telemetry.TelemetryOptions>(o => o.SeverityProvider = ResilienceLogLevels.SeverityOf);

        builder.Services.Configure<KestrelServerOptions>(o =>
        {
            o.Limits.MaxRequestBodySize = RequestLimits.MaxBodyBytes;
            // `Server: Kestrel` tells a prober what to try and a client nothing it needs; Kestrel's own refusals too.
            o.AddServerHeader = false;
            // Slow-loris: a client has 15 s to send its headers (Kestrel also enforces a minimum body data rate).
            o.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            // Headers the gateway takes from a client reach a service with the gateway's own added (X-Forwarded-*,
            // traceparent, X-Request-Id), and a path it escaped again: at Kestrel's defaults the service refused them with a
            // bare 431 or 414, which the gateway passed on as if the client's request were too large after all. The gateway
            // sets its own ceiling after this.
            o.Limits.MaxRequestHeadersTotalSize = RequestLimits.ServiceMaxHeaderBytes;
            o.Limits.MaxRequestHeaderCount = RequestLimits.ServiceMaxHeaderCount;
            o.Limits.MaxRequestLineSize = RequestLimits.ServiceMaxRequestLineBytes;
        });
        builder.Services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddShopProblemDetails();
        return builder;
    }

    /// <summary>The API's JSON: snake_case names, lower-case enum strings, each name at most once per object.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.NumberHandling = JsonNumberHandling.Strict;
        // A name sent twice is refused, not "the last wins": a proxy, a log or another parser reading the first would see
        // another request than the one acted on.
        options.AllowDuplicateProperties = false;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Shop.*"))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource("Shop.*")
                .AddAspNetCoreInstrumentation(t =>
                    // Probes would drown the real traffic in the dashboard.
                    t.Filter = ctx => !IsProbePath(ctx.Request.Path))
                .AddHttpClientInstrumentation(t => t.EnrichWithHttpRequestMessage = ConfidentialUrls.Enrich));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // The final flush at shutdown waits this long for a collector that may be gone (10 s by
            // default), which made every stop take 10 s and orchestrators kill the process.
            builder.Configuration["OTEL_EXPORTER_OTLP_TIMEOUT"] ??= "2000";
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        return builder;
    }

    private static bool IsProbePath(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") ||
        (path.Value?.EndsWith("/healthz", StringComparison.Ordinal) ?? false);

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    /// <summary>
    /// Maps the middleware every service shares and the probes:
    /// <c>/health</c> (readiness: every check), <c>/alive</c> (liveness) and the public
    /// <c>{publicPrefix}/healthz</c> (anonymous, through the gateway).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, string publicPrefix)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync, ResultStatusCodes = HealthResponse.StatusCodes })
            .WithMetadata(ProbeMethods);
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") })
            .WithMetadata(ProbeMethods);
        app.MapHealthChecks($"{publicPrefix.TrimEnd('/')}/healthz", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync, ResultStatusCodes = HealthResponse.StatusCodes })
            .WithMetadata(ProbeMethods)
            .DisableHttpMetrics();
        return app;
    }

    // A probe only reads. MapHealthChecks answers every method, so a DELETE or PATCH of a service's route that the
    // health path shadows got 200 "healthy" instead of the route's own answer.
    private static readonly HttpMethodMetadata ProbeMethods = new([HttpMethods.Get, HttpMethods.Head]);

    /// <summary>
    /// The client's address is what the gateway says it is (X-Forwarded-For, which the gateway sets and
    /// never passes on from the client), and only when the request comes from a network the gateway may
    /// be on: loopback by default, plus <c>ForwardedHeaders:KnownNetworks</c> (CIDRs) in a deployment.
    /// Anyone else's header is ignored, so a client cannot pick the address that sign-in throttling counts.
    /// </summary>
    private static ForwardedHeadersOptions? ClientAddressOptions(IConfiguration configuration, bool atTheEdge)
    {
        var networks = configuration.GetSection("ForwardedHeaders:KnownNetworks").Get<string[]>() ?? [];
        if (atTheEdge && networks.Length == 0)
        {
            return null; // nobody in front of the gateway: the connection's address is the client's
        }
        // Proto and host too: the public origin is the gateway's, which the OpenAPI documents name as their server.
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            ForwardLimit = 1,
        };
        if (atTheEdge)
        {
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
        }
        foreach (var network in networks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }
        return options;
    }

    /// <summary>The request pipeline head shared by all services: request ids and ProblemDetails errors.</summary>
    /// <param name="atTheEdge">
    /// True for the gateway: its clients are the public, so loopback is not trusted to name an address
    /// (only a load balancer's networks from configuration are); the services trust the gateway.
    /// </param>
    public static WebApplication UseServiceDefaults(this WebApplication app, bool atTheEdge = false)
    {
        if (ClientAddressOptions(app.Configuration, atTheEdge) is { } clientAddress)
        {
            app.UseForwardedHeaders(clientAddress);
        }
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
