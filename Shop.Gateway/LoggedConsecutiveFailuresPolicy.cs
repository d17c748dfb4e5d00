using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Shop.Gateway;

/// <summary>
/// YARP's consecutive-failures rule (<see cref="HealthCheckConstants.ActivePolicy.ConsecutiveFailures"/>, its threshold
/// from the cluster's metadata), unchanged, with a destination's outage logged once: a Warning when the rule takes it out,
/// with the last failed probe's reason in one line, and an Information when it answers again. YARP itself logs every
/// failed probe as a Warning with a stack trace (~20 a minute per service that is away) and its change of health without
/// a reason; the gateway's configuration raises both categories to Error (appsettings.json).
/// </summary>
internal sealed partial class LoggedConsecutiveFailuresPolicy(IActiveHealthCheckPolicy rule, ILogger<LoggedConsecutiveFailuresPolicy> logger)
    : IActiveHealthCheckPolicy
{
    public const string PolicyName = "ConsecutiveFailuresLogged";

    // Failed probes since the destination last answered, for the recovery line (the rule keeps its own count, privately).
    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failedProbes = new();

    public string Name => PolicyName;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        var before = probingResults.Select(r => r.Destination.Health.Active).ToArray();
        rule.ProbingCompleted(cluster, probingResults);
        for (var i = 0; i < probingResults.Count; i++)
        {
            var result = probingResults[i];
            var failed = _failedProbes.GetOrCreateValue(result.Destination);
            var failedBefore = failed.Value;
            failed.Value = result.Response is { IsSuccessStatusCode: true } ? 0 : failedBefore + 1;
            var now = result.Destination.Health.Active;
            if (now == DestinationHealth.Unhealthy && before[i] != DestinationHealth.Unhealthy)
            {
                TakenOut(logger, result.Destination.DestinationId, cluster.ClusterId, failed.Value, Reason(cluster, result));
            }
            else if (before[i] == DestinationHealth.Unhealthy && now == DestinationHealth.Healthy)
            {
                BackIn(logger, result.Destination.DestinationId, cluster.ClusterId, failedBefore);
            }
        }
    }

    /// <summary>Why a probe failed, in one line: the destination's answer, or what the connection failed with.</summary>
    private static string Reason(ClusterState cluster, DestinationProbingResult result) => result switch
    {
        { Response: { } response } => $"answered {(int)response.StatusCode} {response.ReasonPhrase}",
        { Exception: OperationCanceledException } => $"no answer within {cluster.Model.Config.HealthCheck?.Active?.Timeout}",
        { Exception: { } exception } => exception.Message,
        _ => "no answer",
    };

    [LoggerMessage(EventId = 1, EventName = "DestinationUnhealthy", Level = LogLevel.Warning, Message = "Destination `{Destination}` of cluster `{Cluster}` is unhealthy: {FailedProbes} health probes in a row failed, the last with: {Reason}. Requests go to the cluster's healthy destinations, or to every destination while none is")]
    private static partial void TakenOut(ILogger logger, string destination, string cluster, int failedProbes, string reason);

    [LoggerMessage(EventId = 2, EventName = "DestinationHealthyAgain", Level = LogLevel.Information, Message = "Destination `{Destination}` of cluster `{Cluster}` is healthy again after {FailedProbes} failed health probes")]
    private static partial void BackIn(ILogger logger, string destination, string cluster, int failedProbes);

    /// <summary>
    /// Adds this policy around YARP's own consecutive-failures rule (an internal type, registered by
    /// <c>AddReverseProxy</c>), which stays registered under its own name.
    /// </summary>
    public static void AddTo(IServiceCollection services)
    {
        var policies = services.Where(d => d.ServiceType == typeof(IActiveHealthCheckPolicy)).Select(d => d.ImplementationType).OfType<Type>().ToList();
        services.AddSingleton<IActiveHealthCheckPolicy>(provider => new LoggedConsecutiveFailuresPolicy(
            policies.Select(type => (IActiveHealthCheckPolicy)ActivatorUtilities.CreateInstance(provider, type))
                .SingleOrDefault(p => p.Name == HealthCheckConstants.ActivePolicy.ConsecutiveFailures)
                ?? throw new InvalidOperationException("YARP's ConsecutiveFailures health policy is no longer registered by type: the gateway's probes cannot be given their log."),
            provider.GetRequiredService<ILogger<LoggedConsecutiveFailuresPolicy>>()));
    }
}
