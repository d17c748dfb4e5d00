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

    /// <summary>
    /// A host name longer than DNS allows (255 characters) is a well-formed URL to .NET's parser, but the resolver
    /// throws on it (ArgumentOutOfRangeException, not the SocketException of a name that does not resolve): the
    /// subscription was answered 500 and logged at Error as an unhandled exception.
    /// </summary>
    [Fact]
    public async Task A_host_name_longer_than_dns_allows_is_refused_naming_the_url()
    {
        var admin = await shop.AdminAsync();
        var from = DateTimeOffset.UtcNow;
        var host = string.Join('.', Enumerable.Repeat(new string('a', 60), 5)) + ".com";
        var problem = await (await admin.PostJsonAsync("/orders/webhooks", new { url = $"https://{host}/hook", events = new[] { "*" } })).ExpectValidationAsync("url");
        Assert.Contains("absolute http or https URL", problem.GetProperty("errors").GetProperty("url")[0].GetString());
        var errors = await shop.ErrorEntriesAsync(["orders"], from, containing: "Unhandled exception");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    /// <summary>
    /// The URL is stored as parsed, and parsing can lengthen it ("https://host?q" gains the path's "/"): a URL of the
    /// most characters allowed, as sent, overflowed the stored column and answered 500. The limit holds for the
    /// stored form, so one character too many is a 400, and the longest stored form is accepted.
    /// </summary>
    [Fact]
    public async Task The_length_limit_holds_for_the_url_as_stored()
    {
        var admin = await shop.AdminAsync();
        var lengthens = "https://1.1.1.1?q=";
        lengthens += new string('a', 2048 - lengthens.Length);
        var problem = await (await admin.PostJsonAsync("/orders/webhooks", new { url = lengthens, events = new[] { "*" } })).ExpectValidationAsync("url");
        Assert.Contains("2048", problem.GetProperty("errors").GetProperty("url")[0].GetString());

        var longest = "https://1.1.1.1/?q=";
        longest += new string('a', 2048 - longest.Length);
        var created = await admin.PostJsonAsync("/orders/webhooks", new { url = longest, events = new[] { "*" } });
        await created.ExpectAsync(201);
        Assert.Equal(longest, (await created.JsonAsync()).GetProperty("url").GetString());
        await (await admin.DeleteAsync($"/orders/webhooks/{(await created.JsonAsync()).GetProperty("id").GetString()}")).ExpectAsync(204);
    }
}
