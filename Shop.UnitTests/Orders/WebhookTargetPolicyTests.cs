using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Shop.Orders.Services.Webhooks;

namespace Shop.UnitTests.Orders;

/// <summary>
/// The SSRF guard's address, scheme and port rules on literal addresses (no DNS), and its connect step on a name
/// (resolved from the hosts file, no packet sent). The full-stack suite keeps one refused target to show a
/// refusal arrives as a 400 naming <c>url</c>.
/// </summary>
public sealed class WebhookTargetPolicyTests
{
    private static WebhookTargetPolicy Policy(string environment, Action<WebhookOptions>? configure = null, HostResolver? resolver = null,
        ILogger<WebhookTargetPolicy>? logger = null)
    {
        var options = new WebhookOptions();
        configure?.Invoke(options);
        return new WebhookTargetPolicy(Options.Create(options), new HostingEnvironment { EnvironmentName = environment }, resolver ?? new HostResolver(),
            logger ?? NullLogger<WebhookTargetPolicy>.Instance);
    }

    private static readonly WebhookTargetPolicy Production = Policy(Environments.Production);

    private static Task<string?> CheckAsync(WebhookTargetPolicy policy, string url)
    {
        Assert.True(WebhookTargetPolicy.IsWellFormed(url, out var uri), $"{url} is not well formed");
        return policy.CheckAsync(uri!, CancellationToken.None);
    }

    [Theory]
    [InlineData("https://0.0.0.0/x")] // "this network"
    [InlineData("https://10.1.2.3/hook")] // private
    [InlineData("https://172.16.0.1/x")]
    [InlineData("https://172.31.255.254/x")]
    [InlineData("https://192.168.0.10/x")]
    [InlineData("https://127.0.0.1/x")] // loopback
    [InlineData("https://127.255.255.254/x")]
    [InlineData("https://169.254.169.254/latest/meta-data")] // link-local, cloud metadata
    [InlineData("https://100.64.0.1/x")] // CGNAT
    [InlineData("https://100.127.255.254/x")]
    [InlineData("https://198.18.0.1/x")] // benchmarking
    [InlineData("https://198.19.255.254/x")]
    [InlineData("https://192.0.0.8/x")] // IETF protocol assignments
    [InlineData("https://192.0.2.1/x")] // documentation
    [InlineData("https://198.51.100.1/x")]
    [InlineData("https://203.0.113.1/x")]
    [InlineData("https://192.88.99.1/x")] // 6to4 relay anycast
    [InlineData("https://224.0.0.1/x")] // multicast
    [InlineData("https://239.255.255.250/x")]
    [InlineData("https://240.0.0.1/x")] // reserved
    [InlineData("https://255.255.255.255/x")] // broadcast
    [InlineData("https://[::1]/x")] // IPv6 loopback
    [InlineData("https://[::]/x")] // unspecified
    [InlineData("https://[fd00::1]/x")] // unique-local
    [InlineData("https://[fc00::1]/x")]
    [InlineData("https://[fe80::1]/x")] // link-local
    [InlineData("https://[fec0::1]/x")] // site-local
    [InlineData("https://[ff02::1]/x")] // multicast
    [InlineData("https://[100::1]/x")] // discard-only
    [InlineData("https://[::a00:1]/x")] // IPv4-compatible (deprecated)
    [InlineData("https://[2001:db8::1]/x")] // documentation
    [InlineData("https://[3fff::1]/x")]
    [InlineData("https://[2001::1]/x")] // Teredo
    [InlineData("https://[5f00::1]/x")] // SRv6 SIDs, not global unicast
    [InlineData("https://[::ffff:127.0.0.1]/x")] // IPv4-mapped
    [InlineData("https://[::ffff:10.0.0.1]/x")]
    [InlineData("https://[::ffff:198.18.0.1]/x")]
    [InlineData("https://[::ffff:100.64.0.1]/x")]
    [InlineData("https://[::ffff:192.0.2.1]/x")]
    [InlineData("https://[::ffff:169.254.169.254]/x")]
    [InlineData("https://[64:ff9b::a00:1]/x")] // NAT64 of 10.0.0.1
    [InlineData("https://[64:ff9b::808:808]/x")] // NAT64 of a public address: still a translator's
    [InlineData("https://[64:ff9b:1::a00:1]/x")] // local-use NAT64
    [InlineData("https://[2002:a00:1::1]/x")] // 6to4 of 10.0.0.1
    [InlineData("https://[2002:808:808::1]/x")] // 6to4 of a public address
    [InlineData("https://2130706433/x")] // 127.0.0.1 as one decimal number
    [InlineData("https://167772161/x")] // 10.0.0.1 as one decimal number
    [InlineData("https://0x7f000001/x")] // 127.0.0.1 in hex
    [InlineData("https://0xa9.0xfe.0xa9.0xfe/x")] // 169.254.169.254, hex parts
    [InlineData("https://012.0.0.1/x")] // 10.0.0.1, octal first part
    [InlineData("https://0177.0.0.1/x")] // 127.0.0.1 in octal
    [InlineData("https://127.1/x")] // short form of 127.0.0.1
    public async Task Addresses_that_are_not_global_unicast_are_refused(string url)
    {
        var refusal = await CheckAsync(Production, url);

        Assert.NotNull(refusal);
        Assert.Contains("internal", refusal);
    }

    [Theory]
    [InlineData("https://1.1.1.1/hook")]
    [InlineData("https://1.1.1.1:443/hook")]
    [InlineData("https://1.1.1.1:80/hook")]
    [InlineData("https://[2606:4700:4700::1111]/hook")]
    [InlineData("https://[::ffff:1.1.1.1]/hook")]
    [InlineData("https://16843009/hook")] // 1.1.1.1 as one decimal number: global, so allowed
    public async Task A_global_https_target_on_443_or_80_is_accepted(string url) => Assert.Null(await CheckAsync(Production, url));

    [Theory]
    [InlineData("https://1.1.1.1:8443/x")]
    [InlineData("https://1.1.1.1:22/x")]
    [InlineData("https://1.1.1.1:8080/x")]
    [InlineData("https://[2606:4700:4700::1111]:6379/x")]
    public async Task Ports_other_than_80_and_443_are_refused(string url) => Assert.Contains("port", await CheckAsync(Production, url));

    [Theory]
    [InlineData("http://1.1.1.1/x")]
    [InlineData("http://1.1.1.1:443/x")]
    [InlineData("http://[2606:4700:4700::1111]/x")]
    public async Task Plain_http_is_refused_outside_development(string url) => Assert.Contains("https://", await CheckAsync(Production, url));

    [Theory]
    [InlineData("ftp://example.com/x")]
    [InlineData("file:///etc/passwd")]
    [InlineData("not a url")]
    [InlineData("/relative/path")]
    [InlineData("https://user:password@1.1.1.1/x")]
    public void Only_absolute_http_and_https_urls_without_credentials_are_well_formed(string url) =>
        Assert.False(WebhookTargetPolicy.IsWellFormed(url, out _));

    /// <summary>DNS holds names of up to 253 characters (a final dot aside); the resolver throws on longer ones.</summary>
    [Theory]
    [InlineData(253, true)]
    [InlineData(254, false)]
    public void A_host_name_is_well_formed_up_to_the_length_dns_holds(int length, bool wellFormed)
    {
        var labels = Enumerable.Repeat(new string('a', 63), 4).ToList();
        var host = string.Join('.', labels)[..length];
        Assert.Equal(wellFormed, WebhookTargetPolicy.IsWellFormed($"https://{host}/x", out _));
        Assert.Equal(wellFormed, WebhookTargetPolicy.IsWellFormed($"https://{host}./x", out _));
    }

    [Theory]
    [InlineData("http://10.1.2.3:8080/x")]
    [InlineData("http://127.0.0.1:5000/x")]
    [InlineData("http://[fd00::1]/x")]
    public async Task Development_allows_any_target(string url) => Assert.Null(await CheckAsync(Policy(Environments.Development), url));

    [Theory]
    [InlineData("http://127.0.0.1:5123/hook")]
    [InlineData("http://[::1]:5123/hook")]
    public async Task An_allowed_loopback_receiver_is_exempt_from_the_scheme_and_port_rules(string url)
    {
        var policy = Policy(Environments.Production, o => o.AllowLoopback = true);

        Assert.Null(await CheckAsync(policy, url));
        Assert.NotNull(await CheckAsync(policy, "http://10.1.2.3:5123/hook"));
    }

    /// <summary>
    /// The check at delivery time (the webhook client's <c>ConnectCallback</c>), which is what stops DNS rebinding:
    /// a name that passed at subscription may resolve to an internal address by the time of a delivery. Here the
    /// name resolves to loopback, on a port the production policy allows, and the policy is production's (not the
    /// test stack's loopback allowance): the connection is refused before any socket is opened.
    /// </summary>
    [Theory]
    [InlineData("https://localhost/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("https://LOCALHOST:443/hook")]
    public async Task A_name_that_resolves_to_an_internal_address_is_refused_at_connect_time(string url)
    {
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = Production.ConnectAsync, UseProxy = false });

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url, TestContext.Current.CancellationToken));

        Assert.Contains("Webhook target refused: internal address.", refused.Message);
    }

    [Fact]
    public async Task Configured_ports_replace_80_and_443()
    {
        var policy = Policy(Environments.Production, o => o.AllowedPorts = [8443]);

        Assert.Null(await CheckAsync(policy, "https://1.1.1.1:8443/x"));
        Assert.Contains("port", await CheckAsync(policy, "https://1.1.1.1/x"));
    }

    /// <summary>A resolver that never answers, as a DNS server that drops the query: it waits until it is cancelled.</summary>
    private sealed class HangingResolver : HostResolver
    {
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Calls;

        public override async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            using var _ = ct.Register(() => Cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return [];
        }
    }

    /// <summary>
    /// Subscribing holds the admin's request while the host is resolved; a resolver that does not answer must not
    /// hold it for the OS resolver's whole timeout. The answer names the host and the budget, so the admin can act.
    /// </summary>
    [Fact]
    public async Task A_host_that_does_not_resolve_in_time_is_refused_with_its_name_and_the_budget()
    {
        var resolver = new HangingResolver();
        var log = new FakeLogger<WebhookTargetPolicy>();
        var policy = Policy(Environments.Production, o => o.ResolveTimeout = TimeSpan.FromMilliseconds(200), resolver, log);

        // The bound only keeps a failing run from hanging the suite; the budget itself is 200 ms.
        var refusal = await CheckAsync(policy, "https://hangs.example/hook").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal("The host name hangs.example did not resolve within 0.2 s; check the name, or try again if its DNS is having trouble.", refusal);
        // Someone else's resolver, and the admin is told: a Warning, not an Error.
        Assert.Equal(LogLevel.Warning, Assert.Single(log.Collector.GetSnapshot()).Level);
    }

    /// <summary>
    /// A resolver that does not stop when cancelled, as .NET's own does on Linux: getaddrinfo cannot be called off, and
    /// Dns.GetHostAddressesAsync(host, ct) returns only when it does (measured: cancelled after 300 ms, it answered
    /// a SocketException after the OS resolver's 4 s timeout).
    /// </summary>
    private sealed class UncancellableResolver : HostResolver
    {
        public override Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => new TaskCompletionSource<IPAddress[]>().Task;
    }

    /// <summary>
    /// The budget must hold with the real resolver, which does not end a lookup when cancelled: the admin's request
    /// waited for the OS resolver's whole timeout (and a name that then failed was refused as "does not resolve", or
    /// accepted unchecked where private targets are allowed).
    /// </summary>
    [Fact]
    public async Task The_resolve_budget_holds_even_when_the_resolver_ignores_cancellation()
    {
        var policy = Policy(Environments.Production, o => o.ResolveTimeout = TimeSpan.FromMilliseconds(200), new UncancellableResolver());

        var refusal = await CheckAsync(policy, "https://hangs.example/hook").WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.Equal("The host name hangs.example did not resolve within 0.2 s; check the name, or try again if its DNS is having trouble.", refusal);
    }

    /// <summary>
    /// The delivery client resolves again at connect time (<see cref="WebhookTargetPolicy.ConnectAsync"/>). The
    /// dispatcher cancels its request when the attempt's time is up; that must end the resolution too, not leave a
    /// connection attempt waiting on the resolver for the pool after the request has gone.
    /// </summary>
    [Fact]
    public async Task A_delivery_given_up_at_its_attempt_timeout_ends_a_resolution_that_does_not_answer()
    {
        var resolver = new HangingResolver();
        var services = new ServiceCollection().AddLogging();
        services.AddOptions<WebhookOptions>().Configure(o => o.AttemptTimeout = TimeSpan.FromMilliseconds(300));
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = Environments.Production });
        services.AddSingleton<HostResolver>(resolver);
        services.AddSingleton<WebhookTargetPolicy>();
        WebhookDispatcher.AddHttpClient(services);
        await using var provider = services.BuildServiceProvider();
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookDispatcher.HttpClientName);

        // As the dispatcher does: the request is given up when the attempt's time is up.
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        attempt.CancelAfter(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PostAsync("https://hangs.example/hook", new StringContent("{}"), attempt.Token));

        await resolver.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }
}
