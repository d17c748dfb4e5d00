using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.AppHost.Infrastructure;
using Shop.Publishing;

namespace Shop.AppHost;

/// <summary>
/// The React SPA: in run mode the Vite dev server as an executable (installing Node packages first
/// when they are missing or older than the lock file); in publish mode the production image built
/// from <c>Shop.Web/Dockerfile</c>.
/// </summary>
public static class WebAppExtensions
{
    /// <summary>
    /// What the dev server takes of request line and headers together: a service's (Shop.ServiceDefaults' RequestLimits:
    /// 24 KiB of request line, 40 KiB of headers). A figure here rather than a reference to the services' library, which
    /// would bring EF Core and OpenTelemetry into the AppHost; ProblemDetailTests' request at the gateway's limits on a web
    /// route fails if the limits outgrow it.
    /// </summary>
    private const int DevServerMaxHeaderBytes = 64 * 1024;

    public static IResourceBuilder<IResourceWithEndpoints> AddShopWebApp(this IDistributedApplicationBuilder builder, string name, string webDirectory, int? hmrClientPort, BaseImageSet baseImages)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            // nginx:*-alpine's nginx user is 101 (Shop.Web/Dockerfile says USER nginx, a name Kubernetes
            // cannot check against runAsNonRoot); nginx.conf puts its pid and temp files under /tmp.
            var image = builder.AddDockerfile(name, webDirectory)
                .WithHttpEndpoint(targetPort: 8080)
                .WithContainerRuntime(101, 101, "/tmp", "/var/cache/nginx")
                // nginx.conf's own health endpoint: compose and kubelet probe it over HTTP, so the gateway
                // can wait for a serving SPA rather than an open port.
                .WithDeploymentHttpProbe("/healthz");
            foreach (var (argument, value) in baseImages.WebBuildArgs)
            {
                image.WithBuildArg(argument, value);
            }
            return image;
        }

        return builder.AddExecutable(name, "npm", webDirectory, "run", "dev")
            .WithHttpEndpoint(env: "PORT")
            .WithEnvironment("BROWSER", "none")
            // Node's HTTP server takes 16 KiB of request line and headers together (--max-http-header-size), so Vite
            // answered a bare 431 to requests the gateway had taken: a browser with 20 KB of cookies for the host, a
            // query the gateway escapes on the way. It takes what the gateway forwards, as the services do. Added to
            // the developer's own NODE_OPTIONS, which this would otherwise replace.
            .WithEnvironment("NODE_OPTIONS", string.Join(' ', new[] { Environment.GetEnvironmentVariable("NODE_OPTIONS"),
                $"--max-http-header-size={DevServerMaxHeaderBytes}" }.Where(o => !string.IsNullOrWhiteSpace(o))))
            .WithEnvironment(ctx =>
            {
                if (hmrClientPort is { } port)
                {
                    // The browser reaches Vite through the gateway; point the HMR websocket there.
                    ctx.EnvironmentVariables["VITE_HMR_CLIENT_PORT"] = port.ToString();
                }
            })
            .OnBeforeResourceStarted(async (resource, evt, ct) =>
            {
                var logger = evt.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource);
                await EnsureNodePackagesAsync(webDirectory, logger, ct);
            });
    }

    private static async Task EnsureNodePackagesAsync(string webDirectory, ILogger logger, CancellationToken ct)
    {
        var lockFile = Path.Combine(webDirectory, "package-lock.json");
        var installedMarker = Path.Combine(webDirectory, "node_modules", ".package-lock.json");
        if (File.Exists(installedMarker) && (!File.Exists(lockFile) || File.GetLastWriteTimeUtc(installedMarker) >= File.GetLastWriteTimeUtc(lockFile)))
        {
            return;
        }

        var arguments = File.Exists(lockFile) ? "ci --no-audit --no-fund" : "install --no-audit --no-fund";
        logger.LogInformation("Node packages missing or stale: running npm {Arguments}", arguments);
        using var process = Process.Start(new ProcessStartInfo("npm", arguments)
        {
            WorkingDirectory = webDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("Could not start npm.");
        process.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) logger.LogInformation("{Line}", e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) logger.LogWarning("{Line}", e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm {arguments} failed with exit code {process.ExitCode}; see the web resource log.");
        }
    }
}
