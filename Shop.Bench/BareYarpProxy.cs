using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Shop.Bench;

/// <summary>
/// Scenario 1c: YARP with nothing of the Shop's around it — one catch-all route to the same Inventory, no
/// middleware, no service discovery, no limiter, no telemetry — in a process of its own. Beside the gateway
/// and nginx it splits the gateway's added latency into what YARP on .NET costs at all and what the
/// gateway's own pipeline adds.
/// </summary>
public static class BareYarpProxy
{
    public const string Argument = "--serve-bare-yarp";

    /// <summary>Set when DCP starts the proxy (a booted stack): the port to listen on, until DCP stops it.</summary>
    public const string PortVariable = "BENCH_PORT";

    /// <summary>The child process's entry point: <c>--serve-bare-yarp &lt;upstream&gt;</c>.</summary>
    public static Task ServeAsync(Uri upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = Environment.GetEnvironmentVariable(PortVariable);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port ?? "0"}");
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**rest}" } }],
            [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["only"] = new() { Address = upstream.ToString() } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        return port is null ? ChildServer.ServeAsync(app) : app.RunAsync();
    }

    public static Task<ChildServer> StartAsync(Uri upstream, CancellationToken ct)
    {
        LoadRunner.EnsureLoopback(upstream);
        return ChildServer.StartAsync("bare YARP proxy", [Argument, upstream.ToString()], ct);
    }
}
