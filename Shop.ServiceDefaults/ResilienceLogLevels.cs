namespace Shop.ServiceDefaults;

/// <summary>
/// The levels of the resilience pipelines' events (Polly's telemetry, category <c>Polly</c>), for every pipeline: the internal
/// clients' and every other HttpClient's standard handler. Polly logs at Error, before the retry or the circuit breaker has decided
/// the call's outcome, a call or try that ran out of its time (OnTimeout) and the last try's handled failure (ExecutionAttempt: a
/// refused connection, a 5xx); the caller then logs that outcome itself (a dependency unavailable, a Warning, answered 503 with
/// Retry-After): a red line for each request while a dependency is away, no fault of this service's. Both are Warnings, as a retried
/// try is (OnRetry, Warning). A call refused by an open circuit is neither: the retry does not handle BrokenCircuitException, so Polly
/// reports it as an unhandled ExecutionAttempt at Information, below the category's Warning (CircuitBreakerTests). An opened circuit
/// (OnCircuitOpened) stays an Error: at least half of ten or more tries in a sampling window failed, and every call for the next
/// few seconds is refused untried, an outage of the dependency said once per opening rather than per request. Every other event
/// keeps Polly's level.
/// </summary>
internal static class ResilienceLogLevels
{
    /// <summary>Polly's names of the events said per request (its TimeoutConstants.OnTimeoutEvent and TelemetryUtil.ExecutionAttempt, internal).</summary>
    private static readonly HashSet<string> PerRequestEvents = ["OnTimeout", "ExecutionAttempt"];

    public static Polly.Telemetry.ResilienceEventSeverity SeverityOf(Polly.Telemetry.SeverityProviderArguments args) =>
        PerRequestEvents.Contains(args.Event.EventName) && args.Event.Severity > Polly.Telemetry.ResilienceEventSeverity.Warning
            ? Polly.Telemetry.ResilienceEventSeverity.Warning
            : args.Event.Severity;
}
