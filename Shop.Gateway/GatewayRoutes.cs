using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace Shop.Gateway;

/// <summary>A service behind the gateway: its path prefix, which is also its Aspire resource name, and its title in the API reference.</summary>
internal sealed record ProxiedApi(string Name, string Title)
{
    public PathString Prefix => "/" + Name;
}

/// <summary>
/// The gateway's routes and clusters, built from one list: <c>/{name}</c> and everything under it go to the
/// service <c>{name}</c>; SPA navigations (marked by <see cref="GatewayEdgeMiddleware"/>) and every other
/// path go to the web app. Adding a service is one line in <see cref="Apis"/>.
/// </summary>
internal static class GatewayRoutes
{
    public static readonly ProxiedApi[] Apis =
    [
        new("users", "Users"),
        new("orders", "Orders"),
        new("inventory", "Inventory"),
    ];

    public const string WebCluster = "web";

    // A proxied request on which nothing moves for this long is answered 504 by the gateway.
    private static readonly TimeSpan ActivityTimeout = TimeSpan.FromSeconds(25);

    public static IReadOnlyList<RouteConfig> Routes() =>
    [
        // Before the API routes: a browser opening /orders/123 gets the SPA's page.
        new()
        {
            RouteId = "spa-navigation",
            ClusterId = WebCluster,
            Order = -10,
            Match = new()
            {
                Path = "{**catch-all}",
                Headers = [new() { Name = GatewayEdgeMiddleware.SpaNavigationHeader, Values = ["1"], Mode = HeaderMatchMode.ExactHeader }],
            },
        },
        .. Apis.SelectMany<ProxiedApi, RouteConfig>(api =>
        [
            new() { RouteId = api.Name, ClusterId = api.Name, Match = new() { Path = $"{api.Prefix}/{{**rest}}" } },
            new() { RouteId = api.Name + "-root", ClusterId = api.Name, Match = new() { Path = api.Prefix } },
        ]),
        new() { RouteId = WebCluster, ClusterId = WebCluster, Order = 100, Match = new() { Path = "{**catch-all}" } },
    ];

    public static IReadOnlyList<ClusterConfig> Clusters() =>
    [
        .. Apis.Select(api => Cluster(api.Name, healthPath: "/alive")),
        // The web app (Vite or nginx) has no /alive; its index page is its liveness.
        Cluster(WebCluster, healthPath: "/"),
    ];

    /// <summary>
    /// One cluster per service, resolved by service discovery (<c>http://{name}</c>, every replica). A replica
    /// that fails two active probes in a row (every 3 s) gets no traffic until it answers again, as long as
    /// another one answers: when every destination has failed, requests still go out (HealthyOrPanic). In
    /// Kubernetes the one destination is the Service's address, behind which kube-proxy spreads connections
    /// over every ready pod; the probes there reach whichever pod their connection landed on, so one pod that
    /// hangs or is shutting down would otherwise take the whole API out of the gateway (503 for every request,
    /// with the other pods healthy). A service that is really down still gets its 503 (connection refused,
    /// <see cref="ForwarderErrorMiddleware"/>). The price, taken knowingly: a lone instance that accepts connections
    /// but never answers (run mode, compose) now costs each request the activity timeout (504 after 25 s) instead
    /// of a 503 once two probes have failed. The rule is YARP's ConsecutiveFailures, behind a policy that logs a
    /// destination's outage once rather than every failed probe (<see cref="LoggedConsecutiveFailuresPolicy"/>).
    /// </summary>
    private static ClusterConfig Cluster(string name, string healthPath) => new()
    {
        ClusterId = name,
        HttpRequest = new() { ActivityTimeout = ActivityTimeout },
        Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = $"http://{name}" } },
        HealthCheck = new()
        {
            AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
            Active = new()
            {
                Enabled = true,
                Interval = TimeSpan.FromSeconds(3),
                Timeout = TimeSpan.FromSeconds(2),
                Policy = LoggedConsecutiveFailuresPolicy.PolicyName,
                Path = healthPath,
            },
        },
        Metadata = new Dictionary<string, string> { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "2" },
    };
}
