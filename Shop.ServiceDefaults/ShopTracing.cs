using System.Diagnostics;
using Npgsql;

namespace Shop.ServiceDefaults;

/// <summary>
/// What becomes a trace. Sampling itself is OpenTelemetry's standard configuration, read by the SDK:
/// <c>OTEL_TRACES_SAMPLER=parentbased_traceidratio</c> with <c>OTEL_TRACES_SAMPLER_ARG</c> (the share of
/// root traces kept) in a deployment; unset, every trace is kept (<c>parentbased_always_on</c>).
/// </summary>
public static class ShopTracing
{
    /// <summary>
    /// A database command is traced only as part of something: a request, or a job's own activity. A
    /// background poll's query with nothing around it would otherwise be a trace of its own, and idle
    /// polls every second crowd real work out of the trace list.
    /// </summary>
    public static bool TracesDatabaseCommand(Activity? current) => current is not null;

    /// <summary>
    /// Applies <see cref="TracesDatabaseCommand"/> to the commands and batches of a data source. Opening a
    /// physical connection is not a span: the pool opens them for whichever caller comes first, often a
    /// poll, and Npgsql offers no filter for them; their cost is in the
    /// <c>db.client.connection.npgsql.create_time</c> metric.
    /// </summary>
    public static NpgsqlDataSourceBuilder TraceCommandsOnlyInsideActivities(this NpgsqlDataSourceBuilder dataSource) =>
        dataSource.ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => TracesDatabaseCommand(Activity.Current))
            .ConfigureBatchFilter(_ => TracesDatabaseCommand(Activity.Current))
            .EnablePhysicalOpenTracing(false));
}
