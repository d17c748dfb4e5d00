using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Shop.Orders.Services.Webhooks;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Orders;

/// <summary>
/// A subscriber's URL is often a capability (whoever knows it can post to it), so the span of a delivery's
/// request names its scheme, host and port only, and no log message or scope carries it. The request goes to a loopback address the production target
/// policy refuses at connect time: the span is made all the same, and no packet leaves the process.
/// </summary>
[Collection(ServiceDefaults.TracerProviderCollection.Name)]
public sealed class WebhookTelemetryTests
{
    [Fact]
    public async Task A_deliverys_span_and_logs_do_not_carry_the_subscribers_path_or_query()
    {
        var secret = Guid.NewGuid().ToString("N");
        var (spans, logs) = await SendAsync(WebhookDispatcher.HttpClientName, $"http://127.0.0.1:9/hooks/{secret}?token={secret}");

        var span = Assert.Single(spans);
        Assert.Equal($"http://127.0.0.1:9{ConfidentialUrls.RedactedPath}", span.GetTagItem("url.full"));
        Assert.DoesNotContain(span.TagObjects, tag => tag.Value?.ToString()?.Contains(secret) == true);
        Assert.DoesNotContain(secret, span.DisplayName);
        Assert.DoesNotContain(logs, line => line.Contains(secret));
    }

    [Fact]
    public async Task Another_clients_span_and_logs_keep_its_path()
    {
        var path = Guid.NewGuid().ToString("N");
        var (spans, logs) = await SendAsync("another", $"http://127.0.0.1:9/{path}");

        Assert.Equal($"http://127.0.0.1:9/{path}", Assert.Single(spans).GetTagItem("url.full"));
        Assert.Contains(logs, line => line.Contains(path));
    }

    /// <summary>
    /// The HttpClient spans and the log lines (messages and their scopes) of one request, with Orders' tracing as
    /// ServiceDefaults sets it up and every log level on.
    /// </summary>
    private static async Task<(IReadOnlyList<Activity> Spans, IReadOnlyList<string> Logs)> SendAsync(string clientName, string url)
    {
        var spans = new ConcurrentQueue<Activity>();
        var logs = new CapturedLogs();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "Shop.UnitTests", EnvironmentName = Environments.Production });
        builder.ConfigureOpenTelemetry();
        builder.Logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs);
        builder.Services.AddOpenTelemetry().WithTracing(t => t.AddProcessor(new Capture(spans)));
        builder.Services.AddOptions<WebhookOptions>();
        builder.Services.AddSingleton<HostResolver>();
        builder.Services.AddSingleton<WebhookTargetPolicy>();
        WebhookDispatcher.AddHttpClient(builder.Services);
        builder.Services.AddHttpClient("another");
        using var host = builder.Build();
        host.Services.GetRequiredService<TracerProvider>();

        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        await Assert.ThrowsAsync<HttpRequestException>(() => host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(clientName).SendAsync(request));
        // Only this class sends to port 9, one test at a time.
        return (spans.Where(s => s.Source.Name == "System.Net.Http" && (s.GetTagItem("url.full") as string)?.StartsWith("http://127.0.0.1:9/", StringComparison.Ordinal) == true).ToList(),
            logs.Lines.ToList());
    }

    /// <summary>Every log message with the scopes it was written in, as an exporter with scopes on would see them.</summary>
    private sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
        public ConcurrentQueue<string> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public void Dispose() { }

        private sealed class Logger(CapturedLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var line = new System.Text.StringBuilder($"{category}: {formatter(state, exception)}");
                owner._scopes.ForEachScope((scope, text) => text.Append(" | ").Append(scope), line);
                owner.Lines.Enqueue(line.ToString());
            }
        }
    }

    private sealed class Capture(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}
