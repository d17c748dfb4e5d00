using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The SSRF guard through the whole stack: Orders runs with the production rules (private networks blocked,
/// https and 80/443 required) and only its own loopback receivers let through. Every address, port and scheme
/// rule is in the fast tier (<c>Shop.UnitTests/Orders/WebhookTargetPolicyTests</c>); here, that the service
/// is configured with them and a refusal reaches the admin as a 400 naming <c>url</c>.
/// </summary>
public sealed class WebhookTargetTests(ShopApp shop)
{
    [Fact]
    public async Task An_address_that_is_not_global_unicast_is_refused_naming_the_url()
    {
        var admin = await shop.AdminAsync();
        var problem = await (await admin.PostJsonAsync("/orders/webhooks", new { url = "https://[64:ff9b::a00:1]/x", events = new[] { "*" } })).ExpectValidationAsync("url");
        Assert.Contains("internal", problem.GetProperty("errors").GetProperty("url")[0].GetString());
    }

    [Fact]
    public async Task Plain_http_is_refused_outside_development()
    {
        var admin = await shop.AdminAsync();
        var problem = await (await admin.PostJsonAsync("/orders/webhooks", new { url = "http://1.1.1.1/x", events = new[] { "*" } })).ExpectValidationAsync("url");
        Assert.Contains("https://", problem.GetProperty("errors").GetProperty("url")[0].GetString());
    }

    [Fact]
    public async Task A_global_https_target_on_443_is_accepted()
    {
        var admin = await shop.AdminAsync();
        var created = await admin.PostJsonAsync("/orders/webhooks", new { url = "https://1.1.1.1/hook", events = new[] { "*" } });
        await created.ExpectAsync(201);
        await (await admin.DeleteAsync($"/orders/webhooks/{(await created.JsonAsync()).GetProperty("id").GetString()}")).ExpectAsync(204);
    }
}
