using Microsoft.AspNetCore.Http;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>The detail every problem gets when nobody wrote one (the full-stack suite checks 404 and 405 reach the client).</summary>
public sealed class ProblemDetailFallbackTests
{
    private static HttpContext Request(string method, string path)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Path = path;
        return http;
    }

    [Fact]
    public void A_path_nothing_answers_is_named_with_its_method()
    {
        var detail = ProblemDetailsSetup.FallbackDetail(Request("GET", "/orders/no/such"), 404);
        Assert.Contains("GET /orders/no/such", detail);
    }

    [Fact]
    public void A_long_path_is_cut()
    {
        var detail = ProblemDetailsSetup.FallbackDetail(Request("GET", "/" + new string('a', 5000)), 404);
        Assert.True(detail.Length < 300, detail);
        Assert.Contains("…", detail);
    }

    [Fact]
    public void A_wrong_method_names_the_methods_the_path_takes()
    {
        var http = Request("PUT", "/inventory/X");
        http.Response.Headers.Allow = "GET, PATCH, DELETE";
        Assert.Equal("/inventory/X does not take PUT; it takes GET, PATCH, DELETE.", ProblemDetailsSetup.FallbackDetail(http, 405));
    }

    [Theory]
    [InlineData(500, "Internal Server Error")]
    [InlineData(502, "Bad Gateway")]
    [InlineData(415, "Unsupported Media Type")]
    public void Any_other_status_gets_a_sentence_with_its_reason(int status, string reason)
    {
        var detail = ProblemDetailsSetup.FallbackDetail(Request("POST", "/orders/"), status);
        Assert.Contains($"{status} {reason}", detail);
    }
}
