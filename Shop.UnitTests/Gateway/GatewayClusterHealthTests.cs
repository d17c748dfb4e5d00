using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
        var cluster = UsersClusterAt(service);
        var routes = GatewayRoutes.Routes().Where(r => r.ClusterId == cluster.ClusterId).ToList();
        await using var gateway = await LoopbackApp.StartAsync(app => app.MapReverseProxy(), services =>
        {
            services.AddReverseProxy().LoadFromMemory(routes, [cluster]);
            LoggedConsecutiveFailuresPolicy.AddTo(services);
        });

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

    /// <summary>
    /// A destination's outage is one Warning when its probes take it out (with the answer that failed them) and one
    /// Information when it answers again, however many probes failed meanwhile; its first healthy probe logs nothing.
    /// The full-stack side: GatewayHealthLogTests.
    /// </summary>
    [Fact]
    public async Task An_outage_is_logged_once_when_the_destination_is_taken_out_and_once_when_it_is_back()
    {
        var failing = false;
        var probes = 0;
        await using var service = await LoopbackApp.StartAsync(app => app.MapGet("/alive", () =>
        {
            Interlocked.Increment(ref probes);
            return Results.StatusCode(Volatile.Read(ref failing) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
        }));
        var cluster = UsersClusterAt(service);
        var recorder = new PolicyLog();
        await using var gateway = await LoopbackApp.StartAsync(app => app.MapReverseProxy(), services =>
        {
            services.AddLogging(b => b.AddProvider(recorder));
            services.AddReverseProxy().LoadFromMemory([], [cluster]);
            LoggedConsecutiveFailuresPolicy.AddTo(services);
        });
        var lookup = gateway.Services.GetRequiredService<IProxyStateLookup>();
        async Task<bool> UntilAsync(DestinationHealth health)
        {
            for (var waited = 0; waited < 400; waited++)
            {
                if (lookup.TryGetCluster(cluster.ClusterId, out var state) && state.Destinations.Values.All(d => d.Health.Active == health))
                {
                    return true;
                }
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            return false;
        }

        Assert.True(await UntilAsync(DestinationHealth.Healthy), "the destination never became healthy");
        Volatile.Write(ref failing, true);
        Assert.True(await UntilAsync(DestinationHealth.Unhealthy), "the destination was never taken out");
        // Several more failed probes, which must log nothing more.
        var taken = Volatile.Read(ref probes);
        while (Volatile.Read(ref probes) < taken + 5)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Volatile.Write(ref failing, false);
        Assert.True(await UntilAsync(DestinationHealth.Healthy), "the destination never came back");

        var entries = recorder.Entries.ToList();
        Assert.True(entries.Count == 2, "expected two entries:\n" + string.Join("\n", entries));
        Assert.Equal(LogLevel.Warning, entries[0].Level);
        Assert.Matches(@"^Destination `d1` of cluster `users` is unhealthy: 2 health probes in a row failed, the last with: answered 503 Service Unavailable\.", entries[0].Message);
        Assert.Equal(LogLevel.Information, entries[1].Level);
        var failed = int.Parse(System.Text.RegularExpressions.Regex.Match(entries[1].Message, @"^Destination `d1` of cluster `users` is healthy again after (\d+) failed health probes$").Groups[1].Value);
        Assert.True(failed >= 7, entries[1].Message);
    }

    /// <summary>The production users cluster with two changes only: the destination's address, and probes every 100 ms rather than 3 s.</summary>
    private static ClusterConfig UsersClusterAt(WebApplication service)
    {
        var production = GatewayRoutes.Clusters().Single(c => c.ClusterId == "users");
        return production with
        {
            Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = LoopbackApp.Address(service) } },
            HealthCheck = production.HealthCheck! with
            {
                Active = production.HealthCheck.Active! with { Interval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromSeconds(1) },
            },
        };
    }

    /// <summary>What the policy logs (its category only).</summary>
    private sealed class PolicyLog : ILoggerProvider, ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) =>
            categoryName == typeof(LoggedConsecutiveFailuresPolicy).FullName ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));

        public void Dispose()
        {
        }
    }
}
