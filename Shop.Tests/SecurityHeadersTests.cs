using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>Headers every answer carries, set once at the gateway.</summary>
public sealed class SecurityHeadersTests(ShopApp shop)
{
    [Fact]
    public async Task Every_answer_says_nosniff_json_problems_and_probes_included()
    {
        var (client, _) = await shop.NewUserAsync();
        foreach (var answer in new[]
        {
            await shop.Client().GetAsync("/inventory/"),
            await client.GetAsync("/users/me"),
            await shop.Client().GetAsync("/users/me"),
            await shop.Client().GetAsync("/orders/internal/anything"),
            await shop.Client().GetAsync("/inventory/healthz"),
        })
        {
            Assert.True(answer.Headers.TryGetValues("X-Content-Type-Options", out var values) && values.Single() == "nosniff",
                $"{answer.RequestMessage!.RequestUri!.PathAndQuery} ({(int)answer.StatusCode}) has no X-Content-Type-Options: nosniff");
        }
    }

    /// <summary>
    /// No answer names the software behind it (`Server: Kestrel`, the web image's nginx through the gateway): it tells a
    /// prober which exploits to try and a client nothing it needs. Kestrel's own refusals, written before any of our
    /// code runs (a request line it cannot parse), included.
    /// </summary>
    [Fact]
    public async Task No_answer_names_the_server_software()
    {
        var (client, _) = await shop.NewUserAsync();
        foreach (var answer in new[]
        {
            await shop.Client().GetAsync("/inventory/"),
            await client.GetAsync("/users/me"),
            await client.GetAsync("/orders/"),
            await shop.Client().GetAsync("/catalog", r => r.Headers.Add("Accept", "text/html")),
            await shop.Client().GetAsync("/users/healthz"),
        })
        {
            Assert.False(answer.Headers.Contains("Server"),
                $"{answer.RequestMessage!.RequestUri!.PathAndQuery} ({(int)answer.StatusCode}) names its server: {string.Join(", ", answer.Headers.Server)}");
        }
        var refused = await shop.ExchangeRawAsync("G(T / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400", refused);
        Assert.DoesNotContain("\r\nServer:", refused, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Authenticated_answers_and_answers_carrying_tokens_are_never_stored()
    {
        var (client, user) = await shop.NewUserAsync();
        foreach (var answer in new[]
        {
            await client.GetAsync("/users/me"),
            await client.GetAsync("/orders/"),
            await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password }),
        })
        {
            Assert.True(answer.Headers.CacheControl?.NoStore == true,
                $"{answer.RequestMessage!.Method} {answer.RequestMessage.RequestUri!.PathAndQuery} ({(int)answer.StatusCode}) may be stored: Cache-Control '{answer.Headers.CacheControl}'");
        }
    }

    [Fact]
    public async Task The_spa_has_one_content_security_policy_and_it_keeps_form_action_self()
    {
        var page = await shop.Client().GetAsync("/catalog", r => r.Headers.Add("Accept", "text/html"));
        await page.ExpectAsync(200);
        Assert.Contains("form-action 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        // The gateway's is the only definition: the production image's nginx must not send a second, diverging one.
        var nginx = await File.ReadAllTextAsync(Path.Combine(ShopApp.RepositoryRoot, "Shop.Web", "nginx.conf"));
        Assert.DoesNotMatch(@"add_header\s+Content-Security-Policy", nginx);
    }
}
