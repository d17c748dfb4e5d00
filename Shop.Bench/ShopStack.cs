using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Shop.AppHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shop.Bench;

/// <summary>
/// The Shop under test: either booted here, fresh and isolated (the real AppHost through
/// Aspire.Hosting.Testing, throw-away data, random ports), or a running one attached to by address.
/// </summary>
public sealed class ShopStack : IAsyncDisposable
{
    public const string NoCacheInventory = "inventory-nocache";

    /// <summary>The service processes whose memory is watched (resource name → process name).</summary>
    public static readonly (string Resource, string Process)[] Services =
        [("gateway", "Shop.Gateway"), ("users", "Shop.Users"), ("orders", "Shop.Orders"), ("inventory", "Shop.Inventory")];

    private static readonly string[] Resources = ["users-db", "orders-db", "inventory-db", "redis", "users", "inventory", "orders", "web", "gateway", NoCacheInventory];

    public const string BareYarpResource = "bench-bare-yarp";
    public const string NginxResource = "bench-nginx";

    private DistributedApplication? _app;
    private string? _nginxPrefix;

    public required Uri Gateway { get; init; }
    public Uri? Inventory { get; init; }
    public Uri? InventoryNoCache { get; init; }
    public string? PostgresConnectionString { get; init; }

    /// <summary>Scenario 1c's bare YARP and 1b's nginx, when DCP started them beside the gateway (booted stack only).</summary>
    public ReferenceProxy? BareYarp { get; init; }
    public ReferenceProxy? Nginx { get; init; }

    /// <summary>Each PostgreSQL server's port (users-db, orders-db, inventory-db) and Redis', for CPU accounting.</summary>
    public IReadOnlyDictionary<string, int> ServerPorts { get; init; } = new Dictionary<string, int>();
    public bool Booted => _app is not null;
    public required string Description { get; init; }

    public static ShopStack Attach(BenchOptions options) => new()
    {
        Gateway = options.Base!,
        Inventory = options.Inventory,
        InventoryNoCache = options.InventoryNoCache,
        PostgresConnectionString = options.PostgresConnectionString,
        Description = $"attached to a running Shop at {options.Base}",
    };

    /// <summary>Where the services export traces ("tracing" scenario), or null when they export nothing.</summary>
    public OtlpSink? TraceSink { get; init; }

    public static async Task<ShopStack> BootAsync(BenchOptions options, CancellationToken ct)
    {
        var sink = options.Runs("tracing") ? await OtlpSink.StartAsync() : null;
        string[] telemetry = sink is null ? [] :
        [
            $"Shop:Telemetry:OtlpEndpoint={sink.Address}",
            $"Shop:Telemetry:TraceSampleRatio={BenchOptions.TracingSampleRatio.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
        [
            "Shop:GatewayPort=0",
            "Shop:EphemeralData=true",
            $"SHOP_ADMIN_EMAIL={options.AdminEmail}",
            $"SHOP_ADMIN_PASSWORD={options.AdminPassword}",
            .. telemetry,
        ], ct);
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting", LogLevel.Error)
            .AddFilter("Shop.AppHost.Resources", options.Verbose ? LogLevel.Warning : LogLevel.Critical));
        AddNoCacheInventory(builder);
        string? nginxPrefix = null;
        var proxies = options.Runs("gateway") ? AddReferenceProxies(builder, out nginxPrefix) : [];
        RaiseGatewayLimits(builder);
        // The bench's few shoppers place thousands of orders that stay pending: lift the hoarding cap for it.
        builder.CreateResourceBuilder<ProjectResource>("orders").WithEnvironment("Orders__MaxPendingOrdersPerUser", "10000000");

        var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        foreach (var resource in Resources.Concat(proxies))
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, ct);
        }
        ReferenceProxy? Proxy(string name) =>
            proxies.Contains(name) && ProcessIdOf(app, name) is { } pid ? new ReferenceProxy(app.GetEndpoint(name, "http"), pid) : null;
        return new ShopStack
        {
            _app = app,
            Gateway = app.GetEndpoint("gateway", "http"),
            Inventory = app.GetEndpoint("inventory", "http"),
            InventoryNoCache = app.GetEndpoint(NoCacheInventory, "http"),
            PostgresConnectionString = await app.GetConnectionStringAsync("inventorydb", ct),
            ServerPorts = new Dictionary<string, int>
            {
                ["users-db"] = app.GetEndpoint("users-db", "tcp").Port,
                ["orders-db"] = app.GetEndpoint("orders-db", "tcp").Port,
                ["inventory-db"] = app.GetEndpoint("inventory-db", "tcp").Port,
                ["redis"] = app.GetEndpoint("redis", "tcp").Port,
            },
            TraceSink = sink,
            Description = "booted by Shop.Bench: the real AppHost via Aspire.Hosting.Testing, throw-away data, random ports, no dashboard" +
                (sink is null ? ", no telemetry export" : $", traces exported to an OTLP sink in the bench process, {BenchOptions.TracingSampleRatio:0.##} of root traces sampled") +
                (proxies.Length > 0 ? $", the reference proxies ({string.Join(", ", proxies)}) started by DCP like the gateway" : ""),
            _nginxPrefix = nginxPrefix,
            BareYarp = Proxy(BareYarpResource),
            Nginx = Proxy(NginxResource),
        };
    }

    /// <summary>
    /// Scenario 1's reference proxies, started by DCP like the gateway they are compared with. Linux
    /// schedules by session ("autogroup"): DCP's processes share one group, the bench's own children
    /// share the load generator's, and at one client a proxy in the load generator's group answered
    /// ~0.2 ms sooner than the same gateway binary in DCP's (docs/performance.md, Round 16). Started
    /// here, every proxy in the comparison sits in the same group as the gateway and Inventory.
    /// Each one's health check is Inventory's <c>/health</c> through it, so it is proven to forward.
    /// </summary>
    /// <param name="nginxPrefix">nginx's directory, when nginx is installed; removed with the stack.</param>
    private static string[] AddReferenceProxies(IDistributedApplicationTestingBuilder builder, out string? nginxPrefix)
    {
        var inventoryService = builder.CreateResourceBuilder<ProjectResource>("inventory");
        var inventory = inventoryService.GetEndpoint("http");
        var (bench, leading) = ChildServer.OwnCommand();
        var bareYarp = builder.AddExecutable(BareYarpResource, bench, AppContext.BaseDirectory, leading)
            .WithArgs(context =>
            {
                context.Args.Add(BareYarpProxy.Argument);
                context.Args.Add(inventory);
            })
            .WithEnvironment(context =>
            {
                foreach (var (variable, value) in ChildServer.ServerEnvironment)
                {
                    context.EnvironmentVariables[variable] = value;
                }
            });
        List<string> names = [BareYarpResource];
        ResourceBuilderExtensions.WithEndpointProxySupport(bareYarp.WithHttpEndpoint(env: BareYarpProxy.PortVariable), proxyEnabled: false);
        bareYarp.WithHttpHealthCheck("/health").WaitFor(inventoryService);
        nginxPrefix = null;
        if (NginxProxy.FindBinary() is { } nginxBinary)
        {
            var prefix = nginxPrefix = Directory.CreateTempSubdirectory("shop-bench-nginx-").FullName;
            File.WriteAllText(Path.Combine(prefix, "nginx.conf.template"), NginxProxy.Configuration(prefix, "@PORT@", "@UPSTREAM@"));
            // nginx reads no environment: the port DCP allocates and Inventory's address go into its configuration at start.
            var nginx = builder.AddExecutable(NginxResource, "/bin/sh", prefix, "-c",
                    $"sed -e \"s/@PORT@/$PORT/\" -e \"s/@UPSTREAM@/$UPSTREAM/\" nginx.conf.template > nginx.conf && exec {nginxBinary} -p {prefix} -c {prefix}/nginx.conf")
                .WithEnvironment("UPSTREAM", inventory.Property(EndpointProperty.HostAndPort));
            ResourceBuilderExtensions.WithEndpointProxySupport(nginx.WithHttpEndpoint(env: "PORT"), proxyEnabled: false);
            nginx.WithHttpHealthCheck("/health").WaitFor(inventoryService);
            names.Add(NginxResource);
        }
        return [.. names];
    }

    /// <summary>
    /// Scenario 2's "cache disabled" side: a second Inventory process from the same project, on the
    /// same database and Redis, differing only in <c>Inventory__Cache__Enabled=false</c>. Both sides run
    /// at once, so the comparison comes from one boot and one data set, and the app model stays untouched.
    /// </summary>
    private static void AddNoCacheInventory(IDistributedApplicationTestingBuilder builder)
    {
        var inventory = builder.CreateResourceBuilder<ProjectResource>("inventory");
        InventoryProject.Path = inventory.Resource.GetProjectMetadata().ProjectPath;
        var model = builder.Resources;
        IResourceBuilder<T> Existing<T>(string name) where T : IResource => builder.CreateResourceBuilder((T)model.Single(r => r.Name == name));

        builder.AddProject<InventoryProject>(NoCacheInventory)
            .WithHttpEndpoint()
            // Like the Inventory it is compared with: behind DCP's loopback proxy every uncached read paid an
            // extra hop (and DCP's CPU), which the warm read did not.
            .WithDirectEndpoints()
            .WithHttpHealthCheck("/health")
            .WithReference(Existing<IResourceWithConnectionString>("inventorydb"))
            .WithReference(Existing<IResourceWithConnectionString>("redis"))
            .WithReference(Existing<ProjectResource>("users"))
            .WithEnvironment("ServiceAuth__ApiKey", Existing<ParameterResource>("inventory-service-key"))
            .WithEnvironment("ServiceAuth__Callers__orders__0", Existing<ParameterResource>("orders-service-key"))
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
            .WithEnvironment("Inventory__Cache__Enabled", "false")
            .WithEnvironment("Inventory__SeedDemoCatalogue", "false")
            .WithShopTelemetry(ShopAppHostSettings.From(builder.Configuration))
            .WaitFor(inventory);
    }

    /// <summary>
    /// The bench is one client address making thousands of requests a second: far above the gateway's
    /// production limits. The limiter still runs on every request (so its cost is measured), with
    /// buckets that never empty.
    /// </summary>
    private static void RaiseGatewayLimits(IDistributedApplicationTestingBuilder builder)
    {
        var gateway = builder.CreateResourceBuilder<ProjectResource>("gateway");
        foreach (var bucket in new[] { "Requests", "SignIn", "AccountChange", "PlaceOrder" })
        {
            gateway.WithEnvironment($"RateLimiting__{bucket}__TokenLimit", "1000000")
                .WithEnvironment($"RateLimiting__{bucket}__TokensPerPeriod", "1000000")
                .WithEnvironment($"RateLimiting__{bucket}__ReplenishmentPeriod", "00:00:01");
        }
    }

    /// <summary>A reference proxy's address and process (nginx's master, whose workers are its children).</summary>
    public sealed record ReferenceProxy(Uri Address, int Pid);

    /// <summary>The Inventory project again, already built by the AppHost's build (so no second build at start).</summary>
    private sealed class InventoryProject : IProjectMetadata
    {
        public static string Path { get; set; } = "";

        public string ProjectPath => Path;

        public bool SuppressBuild => true;
    }

    /// <summary>The process id DCP reports for a resource (the service's own process, or the launcher that runs it).</summary>
    public int? ProcessId(string resource) => _app is null ? null : ProcessIdOf(_app, resource);

    private static int? ProcessIdOf(DistributedApplication app, string resource)
    {
        if (!app.ResourceNotifications.TryGetCurrentState(resource, out var evt))
        {
            return null;
        }
        var pid = evt.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
        return pid switch
        {
            int i => i,
            long l => (int)l,
            string s when int.TryParse(s, out var i) => i,
            _ => null,
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_nginxPrefix is not null)
        {
            NginxProxy.DeletePrefix(_nginxPrefix);
        }
        if (TraceSink is not null)
        {
            await TraceSink.DisposeAsync();
        }
    }
}
