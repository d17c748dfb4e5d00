namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// The classes that build a service's tracing (ServiceDefaults' <c>ConfigureOpenTelemetry</c>, which listens to every
/// <c>Shop.*</c> source). An activity is recorded when any listener's sampler says so, so while one such class's
/// tracer provider is alive, another's "not recorded" could not hold: run in parallel, TraceSamplingTests'
/// ratio-zero case failed whenever WebhookTelemetryTests' provider (no sampler settings: every trace recorded) was up.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TracerProviderCollection
{
    public const string Name = "tracer providers";
}
