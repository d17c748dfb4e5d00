using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shop.Publishing;

namespace Shop.AppHost;

/// <summary>AppHost knobs, all from configuration (command line, environment or appsettings).</summary>
public sealed record ShopAppHostSettings(int? GatewayPort, int Replicas, string AdminEmail, string AdminPassword,
    double? TraceSampleRatio, Uri? OtlpEndpoint)
{
    /// <summary>The share of root traces a deployment keeps unless <c>Shop:Telemetry:TraceSampleRatio</c> says otherwise.</summary>
    public const double DeploymentTraceSampleRatio = 0.1;

    public static ShopAppHostSettings From(IDistributedApplicationBuilder builder) => From(builder.Configuration);

    public static ShopAppHostSettings From(IConfiguration config)
    {
        // 0 lets Aspire choose (parallel test hosts must not all claim 8080).
        var port = config.GetValue("Shop:GatewayPort", 8080);
        return new ShopAppHostSettings(
            GatewayPort: port == 0 ? null : port,
            Replicas: Math.Max(1, config.GetValue("Shop:Replicas", 1)),
            AdminEmail: config["SHOP_ADMIN_EMAIL"] is { Length: > 0 } email ? email : "admin@shop.local",
            AdminPassword: config["SHOP_ADMIN_PASSWORD"] is { Length: > 0 } password ? password : "Admin123!",
            TraceSampleRatio: ParseRatio(config["Shop:Telemetry:TraceSampleRatio"]),
            OtlpEndpoint: config["Shop:Telemetry:OtlpEndpoint"] is { Length: > 0 } endpoint
                ? Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri
                    : throw new InvalidOperationException($"Shop:Telemetry:OtlpEndpoint '{endpoint}' is not an absolute URL; give the OTLP/HTTP receiver's base address, e.g. http://127.0.0.1:4318.")
                : null);
    }

    private static double? ParseRatio(string? value) =>
        value is not { Length: > 0 } ? null
        : double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1 ? ratio
        : throw new InvalidOperationException($"Shop:Telemetry:TraceSampleRatio '{value}' is not a number from 0 to 1; give the share of root traces to keep, e.g. 0.1.");
}

public static class ShopProjectExtensions
{
    /// <summary>
    /// What every Shop service gets: an HTTP endpoint, readiness through <c>/health</c>, the AppHost's
    /// environment name in run mode (so Development features such as the demo catalogue follow the
    /// AppHost), and the configured replica count.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithShopDefaults(this IResourceBuilder<ProjectResource> project, ShopAppHostSettings settings)
    {
        project.WithHttpEndpoint().WithHttpHealthCheck("/health").WithAppHostEnvironment().WithShopTelemetry(settings)
            .WithClientAddressFromPrivateNetworks();
        return settings.Replicas > 1 ? project.WithReplicas(settings.Replicas) : project.WithDirectEndpoints();
    }

    /// <summary>The networks a proxy in front of a deployed service is on: pod and compose networks.</summary>
    private static readonly string[] PrivateNetworks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"];

    /// <summary>
    /// In a deployment the gateway reaches the services from a pod or compose network, not loopback: a service
    /// takes the client's address from the gateway's X-Forwarded-For when the request comes from a private
    /// network (nothing else can reach a service there), or every client would share the gateway's address in
    /// sign-in throttling. ServiceDefaults reads <c>ForwardedHeaders:KnownNetworks</c>; Aspire's own switch
    /// (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>, on by default when publishing) would trust the header from anyone.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithClientAddressFromPrivateNetworks(this IResourceBuilder<ProjectResource> project)
    {
        project.DisableForwardedHeaders();
        if (project.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            TrustPrivateNetworks((name, value) => project.WithEnvironment(name, value));
        }
        return project;
    }

    /// <summary>
    /// The gateway is the edge. Where the deployment publishes its port (compose), the connection's address is the
    /// client's and no forwarded header is believed: a client cannot pick the address its sign-ins and requests
    /// are counted under. Behind the Kubernetes output's Ingress, the controller (on the pod network) names the
    /// client in X-Forwarded-For, and the gateway believes it from private networks only.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithClientAddressAtTheEdge(this IResourceBuilder<ProjectResource> gateway)
    {
        gateway.DisableForwardedHeaders();
        if (gateway.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            TrustPrivateNetworks((name, value) => gateway.WithIngressEnvironment(name, value));
        }
        return gateway;
    }

    /// <summary>Names the private networks as <c>ForwardedHeaders:KnownNetworks</c>, the setting ServiceDefaults reads.</summary>
    private static void TrustPrivateNetworks(Action<string, string> setEnvironment)
    {
        for (var i = 0; i < PrivateNetworks.Length; i++)
        {
            setEnvironment($"ForwardedHeaders__KnownNetworks__{i}", PrivateNetworks[i]);
        }
    }

    /// <summary>
    /// A single instance listens on its endpoint's port itself instead of behind DCP's loopback proxy:
    /// one hop less on every call (an order crosses about eight), and a stopped service refuses
    /// connections at once instead of leaving callers waiting on a proxy that still accepts them.
    /// Replicas need the proxy to share one address, so they keep it.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDirectEndpoints(this IResourceBuilder<ProjectResource> project)
    {
        if (project.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            ResourceBuilderExtensions.WithEndpointProxySupport(project, proxyEnabled: false);
        }
        return project;
    }

    /// <summary>In run mode a project follows the AppHost's environment (Development unless told otherwise).</summary>
    public static IResourceBuilder<ProjectResource> WithAppHostEnvironment(this IResourceBuilder<ProjectResource> project)
    {
        var builder = project.ApplicationBuilder;
        return builder.ExecutionContext.IsRunMode
            ? project.WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
            : project;
    }

    /// <summary>
    /// Where a project's telemetry goes and how much of it. Export: to the dashboard when it runs; without
    /// it (the tests, the bench) nothing listens on the OTLP endpoint Aspire still hands every resource, and
    /// each service would serialise every span and metric, fail to send them and keep them in memory for a
    /// retry — CPU and memory no deployment spends (docs/performance.md) — so export is left off, unless
    /// <c>Shop:Telemetry:OtlpEndpoint</c> names an OTLP/HTTP receiver to send to instead.
    /// Sampling: run mode keeps every trace unless <c>Shop:Telemetry:TraceSampleRatio</c> is set; a
    /// deployment keeps that share of root traces (default <see cref="ShopAppHostSettings.DeploymentTraceSampleRatio"/>),
    /// the <c>trace-sample-ratio</c> parameter, through OpenTelemetry's standard parent-based sampler.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithShopTelemetry(this IResourceBuilder<ProjectResource> project, ShopAppHostSettings settings)
    {
        var builder = project.ApplicationBuilder;
        if (builder.ExecutionContext.IsPublishMode)
        {
            var ratio = builder.Resources.OfType<ParameterResource>().FirstOrDefault(p => p.Name == TraceSampleRatioParameter) is { } existing
                ? builder.CreateResourceBuilder(existing)
                : builder.AddParameter(TraceSampleRatioParameter,
                    (settings.TraceSampleRatio ?? ShopAppHostSettings.DeploymentTraceSampleRatio).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return project
                .WithEnvironment("OTEL_TRACES_SAMPLER", ParentBasedRatioSampler)
                .WithEnvironment("OTEL_TRACES_SAMPLER_ARG", ratio);
        }
        return project.WithEnvironment(context =>
        {
            var variables = context.EnvironmentVariables;
            if (settings.TraceSampleRatio is { } ratio)
            {
                variables["OTEL_TRACES_SAMPLER"] = ParentBasedRatioSampler;
                variables["OTEL_TRACES_SAMPLER_ARG"] = ratio.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                // Aspire hands run mode always_on, which also records children of spans nobody records: the
                // database and Redis calls of the health probes (whose requests are filtered out) would each
                // show as a trace of its own. Parent-based keeps every root and follows the parent otherwise.
                variables["OTEL_TRACES_SAMPLER"] = "parentbased_always_on";
            }
            if (!context.ExecutionContext.Services.GetRequiredService<DistributedApplicationOptions>().DisableDashboard)
            {
                return;
            }
            foreach (var name in variables.Keys.Where(k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal)).ToList())
            {
                variables.Remove(name);
            }
            if (settings.OtlpEndpoint is { } endpoint)
            {
                variables["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint.ToString().TrimEnd('/');
                variables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            }
        });
    }

    public const string TraceSampleRatioParameter = "trace-sample-ratio";

    /// <summary>A child follows its parent's decision; a root trace is kept with the configured probability.</summary>
    private const string ParentBasedRatioSampler = "parentbased_traceidratio";
}
