using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Shop.Bench;

/// <summary>The HTTP operations the scenarios repeat. Each returns null on success or an error kind.</summary>
public static class Scenarios
{
    public const string Gateway = "GET /inventory/{sku} via gateway";
    public const string Nginx = "GET /inventory/{sku} via nginx";
    public const string BareYarp = "GET /inventory/{sku} via bare YARP";
    public const string Direct = "GET /inventory/{sku} direct (cache warm)";
    public const string NoCache = "GET /inventory/{sku} direct (cache off)";
    public const string Orders = "POST /orders/ via gateway";
    public const string OrdersEveryTrace = "POST /orders/ via gateway, every trace exported";
    public const string Pgbench = "pgbench TPC-B";
    public const string Kestrel = "trivial Kestrel endpoint";

    /// <summary>Every bench order holds three units (1 + 2, or 3 of the only sku).</summary>
    public const int UnitsPerOrder = 3;

    /// <summary>GET one item as a shopper, rotating over the bench skus.</summary>
    public static LoadRunner.Operation ReadItem(HttpClient http, BenchData data)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", data.Tokens[0]);
        var paths = data.Skus.Select(s => $"/inventory/{s}").ToArray();
        var counters = new int[1024];
        return async (worker, ct) =>
        {
            var path = paths[(worker + counters[worker % counters.Length]++) % paths.Length];
            using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead, ct);
            return response.StatusCode == HttpStatusCode.OK ? null : ((int)response.StatusCode).ToString();
        };
    }

    /// <summary>GET a fixed small JSON document: the HTTP ceiling of this machine.</summary>
    public static LoadRunner.Operation Ping(HttpClient http) => async (_, ct) =>
    {
        using var response = await http.GetAsync(TrivialServer.Path, HttpCompletionOption.ResponseContentRead, ct);
        return response.StatusCode == HttpStatusCode.OK ? null : ((int)response.StatusCode).ToString();
    };

    /// <summary>
    /// Place a two-line order (qty 1 and 2 of neighbouring skus) as one of several shoppers, with a
    /// unique Idempotency-Key. Units of successful orders are added to <paramref name="unitsOrdered"/>
    /// for the stock-consistency check; <paramref name="webhooks"/>, when given, learns when each was answered.
    /// With <paramref name="traced"/>, each order comes with a W3C <c>traceparent</c> flagged sampled, so its
    /// whole trace is recorded and exported whatever ratio the gateway samples with.
    /// </summary>
    public static LoadRunner.Operation PlaceOrder(HttpClient http, BenchData data, StrongBox<long> unitsOrdered, WebhookLatency? webhooks = null, bool traced = false)
    {
        var auth = data.Tokens.Select(t => new AuthenticationHeaderValue("Bearer", t)).ToArray();
        var skus = data.Skus;
        var counter = 0L;
        return async (worker, ct) =>
        {
            var n = Interlocked.Increment(ref counter);
            var first = (int)(n % skus.Count);
            var second = (first + 1) % skus.Count;
            var body = skus.Count > 1
                ? $$"""{"items":[{"sku":"{{skus[first]}}","qty":1},{"sku":"{{skus[second]}}","qty":2}]}"""
                : $$"""{"items":[{"sku":"{{skus[first]}}","qty":3}]}""";
            using var request = new HttpRequestMessage(HttpMethod.Post, "/orders/")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = auth[worker % auth.Length];
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
            if (traced)
            {
                request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            }
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                return ((int)response.StatusCode).ToString();
            }
            Interlocked.Add(ref unitsOrdered.Value, UnitsPerOrder);
            if (webhooks is not null && response.Headers.Location?.OriginalString is { } location)
            {
                webhooks.OrderAnswered(location[(location.LastIndexOf('/') + 1)..]);
            }
            return null;
        };
    }
}

public sealed class StrongBox<T>(T value)
{
    public T Value = value;
}
