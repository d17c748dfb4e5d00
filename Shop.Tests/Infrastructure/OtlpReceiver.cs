using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Shop.Tests.Infrastructure;

/// <summary>One exported span: the service that sent it, its instrumentation scope (e.g. <c>Npgsql</c>) and its place in its trace.</summary>
public sealed record ReceivedSpan(string Service, string Scope, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind)
{
    public const int ServerKind = 2;
    public bool IsRoot => ParentSpanId is null;
}

/// <summary>
/// An OTLP/HTTP (protobuf) receiver on 127.0.0.1, as a collector would be: records every span it is sent,
/// counts metric exports per service and keeps the latest value of each gauge and sum. It reads the few
/// OTLP fields it needs straight off the protobuf wire format, so the tests need no generated OTLP types.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _metricExports = new();
    private readonly ConcurrentDictionary<(string Service, string Metric), double> _latestValues = new();

    public OtlpReceiver()
    {
        Port = LoopbackPort.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        _app = builder.Build();
        _app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            foreach (var span in ReadSpans(await BodyAsync(context.Request)))
            {
                Spans.Enqueue(span);
            }
            return Results.Bytes([], "application/x-protobuf");
        });
        _app.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            foreach (var (service, values) in ReadMetrics(await BodyAsync(context.Request)))
            {
                _metricExports.AddOrUpdate(service, 1, (_, n) => n + 1);
                foreach (var (metric, value) in values)
                {
                    _latestValues[(service, metric)] = value;
                }
            }
            return Results.Bytes([], "application/x-protobuf");
        });
        _app.MapPost("/v1/logs", () => Results.Bytes([], "application/x-protobuf"));
        _app.StartAsync().GetAwaiter().GetResult();
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    /// <summary>How many metric exports a service has sent: its exporter runs on a fixed interval, so this counts time in that service's own clock.</summary>
    public int MetricExportsFrom(string service) => _metricExports.GetValueOrDefault(service);

    /// <summary>The last exported value of a gauge or sum without attributes (its first data point); null before its first export.</summary>
    public double? LatestValue(string service, string metric) =>
        _latestValues.TryGetValue((service, metric), out var value) ? value : null;

    private static async Task<byte[]> BodyAsync(HttpRequest request)
    {
        var body = request.Headers.ContentEncoding.ToString() == "gzip" ? new GZipStream(request.Body, CompressionMode.Decompress) : request.Body;
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    // ExportTraceServiceRequest { 1: ResourceSpans { 1: Resource, 2: ScopeSpans { 1: scope { 1: name }, 2: Span } } }
    // Span { 1: trace_id, 2: span_id, 4: parent_span_id, 5: name, 6: kind }
    private static IEnumerable<ReceivedSpan> ReadSpans(byte[] request)
    {
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            var fields = Fields(resourceSpans.Bytes).ToList();
            var service = ServiceName(fields);
            foreach (var scopeSpans in fields.Where(f => f.Number == 2))
            {
                var scopeFields = Fields(scopeSpans.Bytes).ToList();
                var scope = scopeFields.Where(f => f.Number == 1).Select(f => Text(Fields(f.Bytes), 1)).FirstOrDefault() ?? "";
                foreach (var span in scopeFields.Where(f => f.Number == 2))
                {
                    var s = Fields(span.Bytes).ToList();
                    var parent = Bytes(s, 4);
                    yield return new ReceivedSpan(service, scope,
                        Convert.ToHexStringLower(Bytes(s, 1)),
                        Convert.ToHexStringLower(Bytes(s, 2)),
                        parent is { Length: > 0 } ? Convert.ToHexStringLower(parent) : null,
                        Text(s, 5) ?? "",
                        (int)s.FirstOrDefault(f => f.Number == 6).Value);
                }
            }
        }
    }

    // ExportMetricsServiceRequest { 1: ResourceMetrics { 1: Resource, 2: ScopeMetrics { 2: Metric { 1: name, 5: Gauge, 7: Sum } } } }
    // Gauge and Sum { 1: NumberDataPoint { 4: as_double (fixed64), 6: as_int (sfixed64) } }; histograms are left out.
    private static IEnumerable<(string Service, List<(string Metric, double Value)> Values)> ReadMetrics(byte[] request)
    {
        foreach (var resourceMetrics in Fields(request).Where(f => f.Number == 1))
        {
            var fields = Fields(resourceMetrics.Bytes).ToList();
            var values = new List<(string, double)>();
            foreach (var metric in fields.Where(f => f.Number == 2).SelectMany(scope => Fields(scope.Bytes)).Where(f => f.Number == 2))
            {
                var metricFields = Fields(metric.Bytes).ToList();
                var point = Bytes(metricFields.Where(f => f.Number is 5 or 7).SelectMany(data => Fields(data.Bytes)), 1);
                if (point.Length == 0)
                {
                    continue; // a histogram, or no data point
                }
                var value = Fields(point).FirstOrDefault(f => f.Number is 4 or 6) switch
                {
                    { Number: 6 } asInt => (long)asInt.Value,
                    { Number: 4 } asDouble => BitConverter.Int64BitsToDouble((long)asDouble.Value),
                    _ => double.NaN,
                };
                values.Add((Text(metricFields, 1) ?? "", value));
            }
            yield return (ServiceName(fields), values);
        }
    }

    // Resource { 1: KeyValue { 1: key, 2: AnyValue { 1: string_value } } }
    private static string ServiceName(List<Field> resourceMessage)
    {
        var resource = Bytes(resourceMessage, 1);
        foreach (var attribute in Fields(resource).Where(f => f.Number == 1))
        {
            var kv = Fields(attribute.Bytes).ToList();
            if (Text(kv, 1) == "service.name")
            {
                return kv.Where(f => f.Number == 2).Select(v => Text(Fields(v.Bytes), 1)).FirstOrDefault() ?? "";
            }
        }
        return "";
    }

    private static string? Text(IEnumerable<Field> fields, int number) =>
        fields.Where(f => f.Number == number).Select(f => Encoding.UTF8.GetString(f.Bytes)).FirstOrDefault();

    private static byte[] Bytes(IEnumerable<Field> fields, int number) =>
        fields.Where(f => f.Number == number).Select(f => f.Bytes).FirstOrDefault() ?? [];

    private readonly record struct Field(int Number, ulong Value, byte[] Bytes);

    /// <summary>The top-level fields of one protobuf message (wire types 0, 1, 2 and 5).</summary>
    private static IEnumerable<Field> Fields(byte[] message)
    {
        var fields = new List<Field>();
        var at = 0;
        while (at < message.Length)
        {
            var key = Varint(message, ref at);
            var number = (int)(key >> 3);
            switch (key & 7)
            {
                case 0:
                    fields.Add(new Field(number, Varint(message, ref at), []));
                    break;
                case 1:
                    fields.Add(new Field(number, BitConverter.ToUInt64(message, at), []));
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    fields.Add(new Field(number, 0, message[at..(at + length)]));
                    at += length;
                    break;
                case 5:
                    fields.Add(new Field(number, BitConverter.ToUInt32(message, at), []));
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {key & 7} in an OTLP request.");
            }
        }
        return fields;
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
