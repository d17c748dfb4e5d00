using Microsoft.Extensions.DependencyInjection;
using Shop.Gateway;
using Yarp.ReverseProxy.Configuration;

namespace Shop.UnitTests.Gateway;

public sealed class GatewayRoutesTests
{
    private static readonly IReadOnlyList<RouteConfig> Routes = GatewayRoutes.Routes();
    private static readonly IReadOnlyList<ClusterConfig> Clusters = GatewayRoutes.Clusters();

    [Theory]
    [InlineData("users")]
    [InlineData("orders")]
    [InlineData("inventory")]
    public void Each_api_prefix_and_everything_under_it_goes_to_its_own_service(string name)
    {
        Assert.Equal(name, Routes.Single(r => r.Match.Path == $"/{name}/{{**rest}}").ClusterId);
        Assert.Equal(name, Routes.Single(r => r.Match.Path == $"/{name}").ClusterId);
        var cluster = Clusters.Single(c => c.ClusterId == name);
        Assert.Equal($"http://{name}", Assert.Single(cluster.Destinations!).Value.Address);
        Assert.Equal("/alive", cluster.HealthCheck!.Active!.Path);
    }

    [Fact]
    public void Spa_navigations_win_over_the_api_routes_and_everything_else_falls_through_to_the_web_app()
    {
        var spa = Routes.Single(r => r.RouteId == "spa-navigation");
        var header = Assert.Single(spa.Match.Headers!);
        Assert.Equal((GatewayEdgeMiddleware.SpaNavigationHeader, "1", HeaderMatchMode.ExactHeader), (header.Name, Assert.Single(header.Values!), header.Mode));
        var web = Routes.Single(r => r.RouteId == GatewayRoutes.WebCluster);
        Assert.Equal("{**catch-all}", web.Match.Path);
        Assert.All(Routes.Where(r => r != spa && r != web), api =>
        {
            Assert.True(spa.Order < (api.Order ?? 0), $"{api.RouteId} would win over a SPA navigation");
            Assert.True(web.Order > (api.Order ?? 0), $"the web app's catch-all would win over {api.RouteId}");
        });
        Assert.All(new[] { spa, web }, r => Assert.Equal(GatewayRoutes.WebCluster, r.ClusterId));
        Assert.Equal("/", Clusters.Single(c => c.ClusterId == GatewayRoutes.WebCluster).HealthCheck!.Active!.Path);
    }

    [Fact]
    public void Every_cluster_takes_an_unhealthy_replica_out_after_two_failed_probes_and_times_out_idle_requests()
    {
        Assert.Equal(GatewayRoutes.Apis.Length + 1, Clusters.Count);
        Assert.All(Clusters, c =>
        {
            Assert.True(c.HealthCheck!.Active!.Enabled);
            Assert.Equal(LoggedConsecutiveFailuresPolicy.PolicyName, c.HealthCheck.Active.Policy);
            Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2)), (c.HealthCheck.Active.Interval, c.HealthCheck.Active.Timeout));
            Assert.Equal("2", c.Metadata!["ConsecutiveFailuresHealthPolicy.Threshold"]);
            Assert.Equal(TimeSpan.FromSeconds(25), c.HttpRequest!.ActivityTimeout);
        });
    }

    /// <summary>
    /// In Kubernetes a cluster's one destination is the Service's address (every ready pod), and its probes reach one
    /// pod: a pod that hangs must not make the gateway refuse the whole API while the others serve.
    /// </summary>
    [Fact]
    public void A_cluster_whose_every_destination_failed_its_probes_still_forwards() =>
        Assert.All(Clusters, c => Assert.Equal("HealthyOrPanic", c.HealthCheck!.AvailableDestinationsPolicy));

    [Fact]
    public async Task Yarp_accepts_every_route_and_cluster()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddReverseProxy();
        LoggedConsecutiveFailuresPolicy.AddTo(services);
        await using var provider = services.BuildServiceProvider();
        var validator = provider.GetRequiredService<IConfigValidator>();

        foreach (var route in Routes)
        {
            Assert.Empty(await validator.ValidateRouteAsync(route));
        }
        foreach (var cluster in Clusters)
        {
            Assert.Empty(await validator.ValidateClusterAsync(cluster));
        }
        Assert.All(Routes, r => Assert.Contains(Clusters, c => c.ClusterId == r.ClusterId));
        Assert.Equal(Routes.Count, Routes.Select(r => r.RouteId).Distinct().Count());
    }
}
