using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The app exporting to an OTLP receiver, every service with the deployment's parent-based sampler at
/// ratio 1 except the gateway, where requests' traces start, at ratio 0: so a request's trace is exported
/// only when its client asks for it (a sampled <c>traceparent</c>), and the services follow the gateway.
/// </summary>
public sealed class TracedShopApp : ShopAppHost
{
    public OtlpReceiver Receiver { get; } = new();

    protected override string[] ExtraArguments => ["Shop:Telemetry:TraceSampleRatio=1", $"Shop:Telemetry:OtlpEndpoint={Receiver.Endpoint}"];

    protected override void Configure(IDistributedApplicationTestingBuilder builder) =>
        builder.CreateResourceBuilder<ProjectResource>("gateway").WithEnvironment("OTEL_TRACES_SAMPLER_ARG", "0");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection : ICollectionFixture<TracedShopApp>
{
    public const string Name = "Tracing (a second app exporting to a test receiver; run alone)";
}

[Collection(TracingCollection.Name)]
public sealed class TracingTests(TracedShopApp shop)
{
    private OtlpReceiver Receiver => shop.Receiver;

    [Fact]
    public async Task Idle_background_polls_are_not_traces_while_a_requests_queries_are()
    {
        // Orders' background jobs poll its database every second or faster here; its metric exporter runs
        // every second, so five exports from it mean several passes of every job.
        var start = Receiver.MetricExportsFrom("orders");
        await WaitUntilAsync(() => Receiver.MetricExportsFrom("orders") >= start + 5, "five metric exports from orders");

        var admin = await shop.AdminAsync();
        var traceId = await SampledRequestAsync(admin, "/orders/");
        // One exporter per process sends its spans in the order they ended: once this request's server
        // span from Orders is in (it ends after its queries), every idle poll Orders traced before it is in as well.
        await WaitUntilAsync(() => new[] { "gateway", "orders" }.All(service => Receiver.Spans.Any(s => s.TraceId == traceId && s.Service == service && s.Kind == ReceivedSpan.ServerKind)),
            "the request's server spans from gateway and orders");

        Assert.Contains(Receiver.Spans, s => s.TraceId == traceId && s.Service == "orders" && s.Scope == "Npgsql");
        // The token's stamp check reads Redis inside the request: its command is a span of the same trace
        // (exported at the Redis instrumentation's next flush, within a second).
        await WaitUntilAsync(() => Receiver.Spans.Any(s => s.TraceId == traceId && s.Service == "orders" && s.Scope.Contains("StackExchangeRedis", StringComparison.Ordinal)),
            "a Redis command span in the request's trace from orders");
        var queriesAlone = Receiver.Spans.GroupBy(s => s.TraceId).Where(t => t.All(s => s.Scope == "Npgsql")).ToList();
        Assert.True(queriesAlone.Count == 0,
            $"{queriesAlone.Count} traces consist only of database spans, e.g. {string.Join("; ", queriesAlone.Take(5).Select(t => $"{t.First().Service}: {t.Count()} span(s) named {t.First().Name}, root {t.Any(s => s.IsRoot)}"))}");
    }

    [Fact]
    public async Task A_request_trace_is_exported_only_as_the_ratio_decides()
    {
        var admin = await shop.AdminAsync();
        // Ratio 0 at the gateway: these start traces nobody keeps, in the gateway or behind it.
        for (var i = 0; i < 5; i++)
        {
            await (await admin.GetAsync("/orders/")).ExpectAsync(200);
        }
        var marker = await SampledRequestAsync(admin, "/orders/");
        await WaitUntilAsync(() => new[] { "gateway", "orders" }.All(service => Receiver.Spans.Any(s => s.TraceId == marker && s.Service == service && s.Kind == ReceivedSpan.ServerKind)),
            "the sampled request's server spans from gateway and orders");

        // Only client-sampled requests may be exported, by the gateway or by the service behind it.
        var unasked = Receiver.Spans.Where(s => s.Kind == ReceivedSpan.ServerKind && s.Service is "gateway" or "orders" && !_sampled.Contains(s.TraceId)).ToList();
        Assert.True(unasked.Count == 0,
            $"{unasked.Count} server spans of requests not sampled were exported, e.g. {string.Join("; ", unasked.Take(5).Select(s => $"{s.Service}: {s.Name}"))}");
    }

    [Fact]
    public async Task An_order_costs_the_Orders_database_two_statements_the_keys_claim_and_the_orders_store()
    {
        var sku = await shop.NewItemAsync();
        var (shopper, _) = await shop.NewUserAsync();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        _sampled.Add(traceId);
        var response = await shopper.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } }, r =>
        {
            r.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            r.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        });
        await response.ExpectAsync(201);
        // Orders' server span ends after its statements, and its exporter sends spans in the order they ended.
        await WaitUntilAsync(() => Receiver.Spans.Any(s => s.TraceId == traceId && s.Service == "orders" && s.Kind == ReceivedSpan.ServerKind),
            "the order's server span from orders");

        // The claim (with the release guard) before Inventory reserves, then one statement that stores the
        // order, its event, its outbox rows and the key's answer in its own implicit transaction: no
        // transaction held open across round trips paced by the service.
        var statements = Receiver.Spans.Where(s => s.TraceId == traceId && s.Service == "orders" && s.Scope == "Npgsql").ToList();
        Assert.True(statements.Count == 2,
            $"placing an order sent {statements.Count} statements to the Orders database: {string.Join("; ", statements.Select(s => s.Name))}");
    }

    [Fact]
    public async Task A_client_refused_again_and_again_is_refused_from_memory_without_a_Redis_call_or_a_trace()
    {
        // Its own address, so its sign-in bucket (10 a minute) is fresh; unknown emails are 401s, each a
        // full password check, until the bucket is empty.
        var address = System.Net.IPAddress.Parse("127.0.0.20");
        var client = shop.ClientFrom(address);
        var refused = new List<string>();
        using var redis = await shop.ConnectRedisAsync();
        var bucket = redis.GetDatabase(3);
        var bucketKey = $"rl:signin:/users/login:a:{address}";
        string? stateAtFirstRefusal = null;
        TimeSpan? firstRetryAfter = null;
        var sinceFirstRefusal = new Stopwatch();
        var retryAfter = TimeSpan.Zero;
        var lastRefusalAt = TimeSpan.Zero;
        // Until six are refused: a sign-in answered 401 costs a full password check, and on a loaded machine ten of
        // them take long enough for the bucket to earn a token or two back meanwhile (one every 6 s).
        for (var i = 0; i < 40 && refused.Count < 6; i++)
        {
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            _sampled.Add(traceId);
            var response = await client.PostJsonAsync("/users/login", new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "Summer2026!" },
                r => r.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01"));
            if (response.StatusCode == System.Net.HttpStatusCode.TooManyRequests)
            {
                retryAfter = response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero;
                if (firstRetryAfter is null)
                {
                    firstRetryAfter = retryAfter;
                    sinceFirstRefusal.Start();
                }
                lastRefusalAt = sinceFirstRefusal.Elapsed;
                await response.ExpectProblemAsync(429);
                refused.Add(traceId);
                // The bucket's script stamps the bucket with Redis' clock on every call, refusals too.
                stateAtFirstRefusal ??= (string?)await bucket.HashGetAsync(bucketKey, "at");
            }
            else
            {
                await response.ExpectAsync(401);
            }
        }
        Assert.True(refused.Count == 6, $"only {refused.Count} of 40 sign-ins were refused");
        var stateAtLastRefusal = (string?)await bucket.HashGetAsync(bucketKey, "at");

        // Every span the gateway ended before this marker's has been sent by then.
        var marker = await SampledRequestAsync(await shop.AdminAsync(), "/orders/");
        await WaitUntilAsync(() => Receiver.Spans.Any(s => s.TraceId == marker && s.Service == "gateway" && s.Kind == ReceivedSpan.ServerKind),
            "the marker's server span from gateway");
        var traced = refused.Where(t => Receiver.Spans.Any(s => s.TraceId == t && s.Service == "gateway")).ToList();
        Assert.True(traced.SequenceEqual(refused.Take(1)),
            $"of {refused.Count} refused sign-ins, these were traced: {string.Join(", ", traced.Select(t => refused.IndexOf(t)))} (only the first, which asked Redis, should be)");
        Assert.NotNull(stateAtFirstRefusal);
        Assert.True(stateAtFirstRefusal == stateAtLastRefusal, "Redis was asked again after it had refused: the bucket was stamped at the first refusal and again later");

        // Only until the bucket's next token is due, as Redis said at the first refusal (one token every 6 s;
        // Retry-After is in whole seconds, rounded up, and the client's clock sees the answers a little later
        // than the gateway's): then Redis decides again, and the sign-in reaches Users.
        Assert.InRange(firstRetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6));
        var dueByRedis = firstRetryAfter.Value - lastRefusalAt + TimeSpan.FromSeconds(1.5);
        Assert.True(retryAfter <= dueByRedis, $"the last refusal said to retry in {retryAfter}, later than Redis' first answer allows ({dueByRedis})");
        await Task.Delay(retryAfter + TimeSpan.FromMilliseconds(500));
        await (await client.PostJsonAsync("/users/login", new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "Summer2026!" })).ExpectAsync(401);
    }

    [Fact]
    public async Task Orders_exports_a_subscriber_that_is_down_and_the_deliveries_waiting_for_it_as_gauges()
    {
        // What an operator alerts on: shop.webhooks.paused_subscribers (a subscriber treated as down) and
        // shop.webhooks.pending (deliveries piling up), as a collector receives them from Orders.
        double? Paused() => Receiver.LatestValue("orders", "shop.webhooks.paused_subscribers");
        double? Pending() => Receiver.LatestValue("orders", "shop.webhooks.pending");
        await using var subscriber = new WebhookReceiver(); // not listening yet
        var admin = await shop.AdminAsync();
        var (hookId, _) = await WebhookTests.SubscribeAsync(admin, subscriber.Url, "order.created");
        try
        {
            await using var db = await shop.OpenDatabaseAsync("ordersdb");
            await WebhookTests.InsertDeliveriesAsync(db, hookId, userId: 0, count: 20, dueAgo: TimeSpan.Zero);
            await WaitUntilAsync(() => Paused() >= 1 && Pending() >= 1, "orders to export a paused subscriber and pending deliveries");

            await subscriber.ListenAsync();
            // Fresh rows: the first ones may be given up meanwhile (the schedule is 9 s here), and only an attempt
            // that gets an answer ends the pause.
            var fresh = await WebhookTests.InsertDeliveriesAsync(db, hookId, userId: 0, count: 5, dueAgo: TimeSpan.Zero);
            await WaitUntilAsync(() => fresh.All(o => subscriber.Received.Any(r => r.OrderId == o.ToString())), "the subscriber, back, to get the fresh deliveries");
            await WaitUntilAsync(() => Paused() == 0 && Pending() == 0, "orders to export no paused subscriber and no pending delivery after the subscriber came back",
                () => $"it last exported {Paused()} paused subscriber(s) and {Pending()} pending deliveries");
        }
        finally
        {
            await admin.DeleteAsync($"/orders/webhooks/{hookId}");
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentBag<string> _sampled = [];

    /// <summary>Sends a request whose client has decided to sample it (W3C <c>traceparent</c>, flag 01) and returns its trace id.</summary>
    private static async Task<string> SampledRequestAsync(ShopClient client, string path)
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        _sampled.Add(traceId);
        var response = await client.GetAsync(path, r => r.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01"));
        await response.ExpectAsync(200);
        return traceId;
    }

    /// <param name="state">What the failure should also say, read when the wait runs out.</param>
    private static async Task WaitUntilAsync(Func<bool> condition, string what, Func<string>? state = null)
    {
        if (!await Eventually.HoldsAsync(condition, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100)))
        {
            throw new TimeoutException(state is null ? $"Waited 60 s for {what}." : $"Waited 60 s for {what}: {state()}.");
        }
    }
}
