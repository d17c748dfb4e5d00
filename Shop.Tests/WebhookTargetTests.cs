using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The SSRF guard: only global unicast addresses, https, ports 80 and 443. The fixture
/// runs Orders with the production rules (private networks blocked, https and 80/443 required) and only
/// its own loopback receivers let through, so literal-IP URLs show the rules at subscription time.
/// </summary>
public sealed class WebhookTargetTests(ShopApp shop)
{
    [Theory]
    [InlineData("https://[64:ff9b::a00:1]/x")] // NAT64 of 10.0.0.1
    [InlineData("https://[64:ff9b::808:808]/x")] // NAT64 of a public address: still a translator's
    [InlineData("https://[64:ff9b:1::a00:1]/x")] // local-use NAT64
    [InlineData("https://[2002:a00:1::1]/x")] // 6to4 of 10.0.0.1
    [InlineData("https://198.18.0.1/x")] // benchmarking
    [InlineData("https://198.19.255.254/x")]
    [InlineData("https://192.0.0.8/x")] // IETF protocol assignments
    [InlineData("https://192.0.2.1/x")] // documentation
    [InlineData("https://198.51.100.1/x")]
    [InlineData("https://203.0.113.1/x")]
    [InlineData("https://192.88.99.1/x")] // 6to4 relay anycast
    [InlineData("https://100.64.0.1/x")] // CGNAT
    [InlineData("https://240.0.0.1/x")] // reserved
    [InlineData("https://255.255.255.255/x")]
    [InlineData("https://[::ffff:198.18.0.1]/x")] // IPv4-mapped
    [InlineData("https://[::ffff:100.64.0.1]/x")]
    [InlineData("https://[::ffff:192.0.2.1]/x")]
    [InlineData("https://[::a00:1]/x")] // IPv4-compatible (deprecated)
    [InlineData("https://[2001:db8::1]/x")] // documentation
    [InlineData("https://[3fff::1]/x")]
    [InlineData("https://[2001::1]/x")] // Teredo
    [InlineData("https://[100::1]/x")] // discard-only
    [InlineData("https://[fec0::1]/x")] // site-local
    [InlineData("https://[5f00::1]/x")] // SRv6 SIDs, not global unicast
    public async Task Addresses_that_are_not_global_unicast_are_refused(string url)
    {
        var admin = await shop.AdminAsync();
        var problem = await (await admin.PostJsonAsync("/orders/webhooks", new { url, events = new[] { "*" } })).ExpectValidationAsync("url");
        Assert.Contains("internal", problem.GetProperty("errors").GetProperty("url")[0].GetString());
    }

    [Theory]
    [InlineData("https://1.1.1.1:8443/x")]
    [InlineData("https://1.1.1.1:22/x")]
    [InlineData("http://1.1.1.1:443/x")]
    [InlineData("https://[2606:4700:4700::1111]:6379/x")]
    public async Task Ports_other_than_80_and_443_are_refused(string url)
    {
        var admin = await shop.AdminAsync();
        var problem = await (await admin.PostJsonAsync("/orders/webhooks", new { url, events = new[] { "*" } })).ExpectValidationAsync("url");
        Assert.Contains(url.StartsWith("https") ? "port" : "https", problem.GetProperty("errors").GetProperty("url")[0].GetString());
    }

    [Fact]
    public async Task Plain_http_is_refused_outside_development()
    {
        var admin = await shop.AdminAsync();
        var problem = await (await admin.PostJsonAsync("/orders/webhooks", new { url = "http://1.1.1.1/x", events = new[] { "*" } })).ExpectValidationAsync("url");
        Assert.Contains("https://", problem.GetProperty("errors").GetProperty("url")[0].GetString());
    }

    [Theory]
    [InlineData("https://1.1.1.1/hook")]
    [InlineData("https://1.1.1.1:443/hook")]
    [InlineData("https://[2606:4700:4700::1111]/hook")]
    public async Task A_global_https_target_on_443_is_accepted(string url)
    {
        var admin = await shop.AdminAsync();
        var created = await admin.PostJsonAsync("/orders/webhooks", new { url, events = new[] { "*" } });
        await created.ExpectAsync(201);
        await (await admin.DeleteAsync($"/orders/webhooks/{(await created.JsonAsync()).GetProperty("id").GetString()}")).ExpectAsync(204);
    }
}
