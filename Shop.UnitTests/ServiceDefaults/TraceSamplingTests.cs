using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// Which activities the services record: the sampler comes from OpenTelemetry's standard variables
/// through configuration, and a database command with nothing around it is not traced.
/// One collection with every other class that builds a tracer provider (<see cref="TracerProviderCollection"/>).
/// </summary>
[Collection(TracerProviderCollection.Name)]
public sealed class TraceSamplingTests
{
    [Fact]
    public void A_database_command_outside_any_activity_is_not_traced()
    {
        Assert.False(ShopTracing.TracesDatabaseCommand(current: null));
    }

    [Fact]
    public void A_database_command_inside_a_request_or_a_jobs_activity_is_traced()
    {
        using var activity = new Activity("GET /orders/").Start();
        Assert.True(ShopTracing.TracesDatabaseCommand(Activity.Current));
    }

    [Fact]
    public void Without_sampler_settings_every_root_trace_is_recorded()
    {
        using var recorder = Recorder(new());
        using var root = recorder.Source.StartActivity("job pass");
        Assert.True(root is { Recorded: true });
    }

    [Fact]
    public void With_ratio_zero_a_root_trace_is_not_recorded_but_a_sampled_callers_trace_is()
    {
        using var recorder = Recorder(new() { ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio", ["OTEL_TRACES_SAMPLER_ARG"] = "0" });

        using (var root = recorder.Source.StartActivity("GET /orders/", ActivityKind.Server))
        {
            Assert.False(root is { Recorded: true });
        }
        var sampledCaller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        using (var child = recorder.Source.StartActivity("GET /orders/", ActivityKind.Server, sampledCaller))
        {
            Assert.True(child is { Recorded: true });
        }
        var unsampledCaller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        using (var child = recorder.Source.StartActivity("GET /orders/", ActivityKind.Server, unsampledCaller))
        {
            Assert.False(child is { Recorded: true });
        }
    }

    [Fact]
    public void With_ratio_one_every_root_trace_is_recorded()
    {
        using var recorder = Recorder(new() { ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio", ["OTEL_TRACES_SAMPLER_ARG"] = "1" });
        using var root = recorder.Source.StartActivity("GET /orders/", ActivityKind.Server);
        Assert.True(root is { Recorded: true });
    }

    /// <summary>A service's tracing as <see cref="ServiceDefaultsExtensions.ConfigureOpenTelemetry{TBuilder}"/> sets it up, with this configuration.</summary>
    private static TracingRecorder Recorder(Dictionary<string, string?> configuration)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "Shop.UnitTests" });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.ConfigureOpenTelemetry();
        var host = builder.Build();
        host.Services.GetRequiredService<TracerProvider>();
        return new TracingRecorder(host, new ActivitySource($"Shop.UnitTests.{Guid.NewGuid():N}"));
    }

    private sealed record TracingRecorder(IHost Host, ActivitySource Source) : IDisposable
    {
        public void Dispose()
        {
            Source.Dispose();
            Host.Dispose();
        }
    }
}
