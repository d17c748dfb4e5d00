namespace Shop.Publishing;

/// <summary>
/// How long a stateless service is given to stop. A .NET service stops within its host's shutdown timeout
/// (<c>HostOptions.ShutdownTimeout</c>, 30 s by default; the Shop does not change it): Kestrel finishes the
/// requests under way, Orders the webhook attempts under way (each within its 5 s timeout) and records them.
/// </summary>
public static class StopTiming
{
    /// <summary>.NET's default host shutdown timeout.</summary>
    public const int ShutdownSeconds = 30;

    /// <summary>
    /// Kubernetes: how long a stopping pod keeps serving before it is sent SIGTERM. The endpoints and the
    /// Ingress controller take a terminating pod out of rotation a few seconds after kubelet starts stopping
    /// it; until then new connections still arrive, and a process that had stopped listening would refuse them.
    /// </summary>
    public const int PreStopSeconds = 5;

    /// <summary>Seconds for the process to exit after its shutdown (logs and telemetry flushed) before it is killed.</summary>
    private const int ExitSeconds = 5;

    /// <summary>Kubernetes' <c>terminationGracePeriodSeconds</c> (default 30), which counts the preStop sleep too.</summary>
    public const int PodGracePeriodSeconds = PreStopSeconds + ShutdownSeconds + ExitSeconds;

    /// <summary>Compose's <c>stop_grace_period</c> (Docker's default is 10 s); compose has no load balancer to leave.</summary>
    public const int ComposeGracePeriodSeconds = ShutdownSeconds + ExitSeconds;
}
