using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Shop.Gateway;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Shop.UnitTests.Gateway;

/// <summary>
/// The gateway's cluster settings in a real YARP proxy on loopback, against a real destination: what
/// <see cref="GatewayRoutesTests.A_cluster_whose_every_destination_failed_its_probes_still_forwards"/> checks as configuration.
/// </summary>
public sealed class GatewayClusterHealthTests
{
    /// <summary>
    /// In Kubernetes the users cluster's one destination is the Service's address; its probes reach whichever pod their
    /// connection landed on. Here the destination's probe path fails (a hung or stopping pod) while its API answers (the
    /// other pods): once YARP has marked it unhealthy, requests must still be forwarded, not refused with 503.
    /// </summary>
    [Fact]
    public async Task A_lone_destination_whose_probes_fail_still_gets_the_requests()
    {
        await using var service = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/alive", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
            app.MapGet("/users/me", () => "served");
        });
        var production = GatewayRoutes.Clusters().Single(c => c.ClusterId == "users");
        // The production cluster with two changes only: the destination's address, and probes every 100 ms rather than 3 s.
        var cluster = production with
        {
            Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = LoopbackApp.Address(service) } },
            HealthCheck = production.HealthCheck! with
            {
                Active = production.HealthCheck.Active! with { Interval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromSeconds(1) },
            },
        };
        var routes = GatewayRoutes.Routes().Where(r => r.ClusterId == cluster.ClusterId).ToList();
        await using var gateway = await LoopbackApp.StartAsync(app => app.MapReverseProxy(), services => services.AddReverseProxy().LoadFromMemory(routes, [cluster]));

        var lookup = gateway.Services.GetRequiredService<IProxyStateLookup>();
        bool MarkedUnhealthy() => lookup.TryGetCluster(cluster.ClusterId, out var state)
            && state.Destinations.Values.All(d => d.Health.Active == DestinationHealth.Unhealthy);
        for (var waited = 0; !MarkedUnhealthy() && waited < 400; waited++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        var markedUnhealthy = MarkedUnhealthy();
        Assert.True(markedUnhealthy, "YARP never marked the destination unhealthy: the test did not set up what it is about");

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var answer = await client.GetAsync(LoopbackApp.Address(gateway) + "users/me", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("served", await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
