namespace Shop.ServiceDefaults;

/// <summary>
/// The levels of the resilience pipelines' events (Polly's telemetry, category <c>Polly</c>), for every pipeline: the internal
/// clients' and every other HttpClient's standard handler. While a dependency is away, Polly narrates each try of each request
/// that reaches it: the try's handled failure (ExecutionAttempt, Handled: True; Error for the last try, before the retry and the
/// circuit breaker have decided the call's outcome) and the retry after it (OnRetry), four or five Warnings a request until the
/// circuit opens. The caller logs that outcome itself, once per outage with the same reason (<see cref="OutageLog"/>, answered 503
/// with Retry-After), so these are Information, as Polly logs a try that succeeded or that it does not handle: below the
/// category's Warning, not written (they still count in Polly's metrics). A call or try that ran out of its time (OnTimeout) is a
/// Warning (Polly says Error): a slow dependency, which no refusal says. An opened circuit (OnCircuitOpened) stays an Error: at
/// least half of ten or more tries in a sampling window failed, and every call for the next few seconds is refused untried, an
/// outage of the dependency said once per opening rather than per request; half-opened stays a Warning. Every other event keeps
/// Polly's level (CircuitBreakerTests).
/// </summary>
internal static class ResilienceLogLevels
{
    /// <summary>Polly's names of the events said per try (TelemetryUtil.ExecutionAttempt and RetryConstants.OnRetryEvent, internal).</summary>
    private static readonly HashSet<string> PerAttemptEvents = ["ExecutionAttempt", "OnRetry"];

    /// <summary>Polly's name of a timed-out call or try (TimeoutConstants.OnTimeoutEvent, internal).</summary>
    private const string TimeoutEvent = "OnTimeout";

    public static Polly.Telemetry.ResilienceEventSeverity SeverityOf(Polly.Telemetry.SeverityProviderArguments args) => args.Event switch
    {
        { Severity: > Polly.Telemetry.ResilienceEventSeverity.Information } when PerAttemptEvents.Contains(args.Event.EventName) => Polly.Telemetry.ResilienceEventSeverity.Information,
        { EventName: TimeoutEvent, Severity: > Polly.Telemetry.ResilienceEventSeverity.Warning } => Polly.Telemetry.ResilienceEventSeverity.Warning,
        var other => other.Severity,
    };
}
