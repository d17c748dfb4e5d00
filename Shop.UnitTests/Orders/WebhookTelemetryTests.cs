using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Shop.Orders.Services.Webhooks;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Orders;

/// <summary>
/// A subscriber's URL is often a capability (whoever knows it can post to it), so the span of a delivery's
/// request names its scheme, host and port only. The request goes to a loopback address the production target
/// policy refuses at connect time: the span is made all the same, and no packet leaves the process.
/// </summary>
public sealed class WebhookTelemetryTests
{
    [Fact]
    public async Task A_deliverys_span_does_not_carry_the_subscribers_path_or_query()
    {
        var secret = Guid.NewGuid().ToString("N");
        var spans = await SpansOfAsync(WebhookDispatcher.HttpClientName, $"http://127.0.0.1:9/hooks/{secret}?token={secret}");

        var span = Assert.Single(spans);
        Assert.Equal($"http://127.0.0.1:9{ConfidentialUrls.RedactedPath}", span.GetTagItem("url.full"));
        Assert.DoesNotContain(span.TagObjects, tag => tag.Value?.ToString()?.Contains(secret) == true);
        Assert.DoesNotContain(secret, span.DisplayName);
    }

    [Fact]
    public async Task Another_clients_span_keeps_its_path()
    {
        var path = Guid.NewGuid().ToString("N");
        var spans = await SpansOfAsync("another", $"http://127.0.0.1:9/{path}");

        Assert.Equal($"http://127.0.0.1:9/{path}", Assert.Single(spans).GetTagItem("url.full"));
    }

    /// <summary>The HttpClient spans of one request, with Orders' tracing as ServiceDefaults sets it up.</summary>
    private static async Task<IReadOnlyList<Activity>> SpansOfAsync(string clientName, string url)
    {
        var spans = new ConcurrentQueue<Activity>();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "Shop.UnitTests", EnvironmentName = Environments.Production });
        builder.ConfigureOpenTelemetry();
        builder.Services.AddOpenTelemetry().WithTracing(t => t.AddProcessor(new Capture(spans)));
        builder.Services.AddOptions<WebhookOptions>();
        builder.Services.AddSingleton<WebhookTargetPolicy>();
        WebhookDispatcher.AddHttpClient(builder.Services);
        builder.Services.AddHttpClient("another");
        using var host = builder.Build();
        host.Services.GetRequiredService<TracerProvider>();

        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        await Assert.ThrowsAsync<HttpRequestException>(() => host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(clientName).SendAsync(request));
        // Only this class sends to port 9, one test at a time.
        return spans.Where(s => s.Source.Name == "System.Net.Http" && (s.GetTagItem("url.full") as string)?.StartsWith("http://127.0.0.1:9/", StringComparison.Ordinal) == true).ToList();
    }

    private sealed class Capture(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}
