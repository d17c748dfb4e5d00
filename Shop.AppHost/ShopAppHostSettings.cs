using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Shop.AppHost;

/// <summary>AppHost knobs, all from configuration (command line, environment or appsettings).</summary>
public sealed record ShopAppHostSettings(int? GatewayPort, int Replicas, string AdminEmail, string AdminPassword)
{
    public static ShopAppHostSettings From(IDistributedApplicationBuilder builder)
    {
        var config = builder.Configuration;
        // 0 lets Aspire choose (parallel test hosts must not all claim 8080).
        var port = config.GetValue("Shop:GatewayPort", 8080);
        return new ShopAppHostSettings(
            GatewayPort: port == 0 ? null : port,
            Replicas: Math.Max(1, config.GetValue("Shop:Replicas", 1)),
            AdminEmail: config["SHOP_ADMIN_EMAIL"] is { Length: > 0 } email ? email : "admin@shop.local",
            AdminPassword: config["SHOP_ADMIN_PASSWORD"] is { Length: > 0 } password ? password : "Admin123!");
    }
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
        project.WithHttpEndpoint().WithHttpHealthCheck("/health").WithAppHostEnvironment().WithTelemetryExportOnlyToDashboard();
        if (project.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            // In a deployment the gateway reaches the services from a pod or compose network, not
            // loopback: trust its X-Forwarded-For from private networks (nothing else can reach a
            // service there), or every client would share the gateway's address in sign-in throttling.
            string[] privateNetworks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"];
            for (var i = 0; i < privateNetworks.Length; i++)
            {
                project.WithEnvironment($"ForwardedHeaders__KnownNetworks__{i}", privateNetworks[i]);
            }
        }
        return settings.Replicas > 1 ? project.WithReplicas(settings.Replicas) : project.WithDirectEndpoints();
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
    /// Without the dashboard (the tests, the bench) nothing listens on the OTLP endpoint Aspire still hands
    /// every resource: each service would serialise every span and metric, fail to send them and keep them
    /// in memory for a retry — CPU and memory no deployment spends (docs/performance.md). Export is then
    /// left off, as in a deployment without a collector.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithTelemetryExportOnlyToDashboard(this IResourceBuilder<ProjectResource> project)
    {
        if (!project.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            return project;
        }
        return project.WithEnvironment(context =>
        {
            if (context.ExecutionContext.Services.GetRequiredService<DistributedApplicationOptions>().DisableDashboard)
            {
                foreach (var name in context.EnvironmentVariables.Keys.Where(k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal)).ToList())
                {
                    context.EnvironmentVariables.Remove(name);
                }
            }
        });
    }
}
