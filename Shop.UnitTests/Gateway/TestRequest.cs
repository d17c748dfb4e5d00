using Microsoft.AspNetCore.Http;

namespace Shop.UnitTests.Gateway;

/// <summary>A request as the gateway's rules see it, without a server.</summary>
internal static class TestRequest
{
    public static HttpRequest Create(string method, string path)
    {
        var request = new DefaultHttpContext().Request;
        request.Method = method;
        request.Path = path;
        return request;
    }
}
