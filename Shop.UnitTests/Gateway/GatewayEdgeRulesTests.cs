using Microsoft.AspNetCore.Http;
using Shop.Gateway;

namespace Shop.UnitTests.Gateway;

public sealed class GatewayEdgeRulesTests
{
    [Theory]
    [InlineData("/internal/users/1")]
    [InlineData("/internal/reservations/totals")]
    [InlineData("/inventory/internal/reservations")]
    [InlineData("/users/INTERNAL/users/1")]
    [InlineData("/orders/Internal")]
    public void Any_segment_named_internal_is_refused(string path) =>
        Assert.True(GatewayEdgeMiddleware.IsInternalPath(path));

    [Theory]
    [InlineData("/")]
    [InlineData("/inventory/items")]
    [InlineData("/users/internals")]
    [InlineData("/orders/internal-notes")]
    [InlineData("/internalx/users/1")]
    public void A_segment_that_only_contains_internal_passes(string path) =>
        Assert.False(GatewayEdgeMiddleware.IsInternalPath(path));

    [Theory]
    [InlineData("GET", "/orders/123", "text/html,application/xhtml+xml", true)]
    [InlineData("HEAD", "/inventory", "text/html", true)]
    [InlineData("GET", "/users/me", "TEXT/HTML", true)]
    [InlineData("POST", "/orders/123", "text/html", false)]
    [InlineData("GET", "/orders/123", "application/json", false)]
    [InlineData("GET", "/orders/123", "", false)]
    [InlineData("GET", "/users/openapi/v1.json", "text/html", false)]
    [InlineData("GET", "/orders/healthz", "text/html", false)]
    [InlineData("GET", "/users/.well-known/jwks.json", "text/html", false)]
    [InlineData("GET", "/catalogue", "text/html", false)]
    [InlineData("GET", "/ordersx/1", "text/html", false)]
    public void A_browser_navigation_under_an_api_prefix_goes_to_the_spa_except_the_apis_documents(string method, string path, string accept, bool spa)
    {
        var request = TestRequest.Create(method, path);
        request.Headers.Accept = accept;

        Assert.Equal(spa, GatewayEdgeMiddleware.IsSpaNavigation(request));
    }

    [Theory]
    [InlineData("/users/login", null, true)]
    [InlineData("/users/.well-known/jwks.json", null, true)]
    [InlineData("/orders/", "Authorization", true)]
    [InlineData("/inventory/items", "Cookie", true)]
    [InlineData("/inventory/items", null, false)]
    [InlineData("/assets/index.js", "Cookie", false)]
    public void Answers_to_signed_in_api_requests_and_every_users_answer_carry_personal_data(string path, string? credentialHeader, bool personal)
    {
        var request = TestRequest.Create("GET", path);
        if (credentialHeader is not null)
        {
            request.Headers[credentialHeader] = "x";
        }

        Assert.Equal(personal, GatewayEdgeMiddleware.CarriesPersonalData(request));
    }

    [Fact]
    public void Development_allows_inline_script_and_style_and_blob_workers_and_nothing_else_does()
    {
        Assert.DoesNotContain("unsafe-inline", GatewayEdgeMiddleware.ContentSecurityPolicy(development: false));
        Assert.DoesNotContain("blob:", GatewayEdgeMiddleware.ContentSecurityPolicy(development: false));
        Assert.Contains("script-src 'self' 'unsafe-inline'", GatewayEdgeMiddleware.ContentSecurityPolicy(development: true));
        Assert.All(new[] { false, true }, development =>
            Assert.Contains("form-action 'self'", GatewayEdgeMiddleware.ContentSecurityPolicy(development)));
    }
}
