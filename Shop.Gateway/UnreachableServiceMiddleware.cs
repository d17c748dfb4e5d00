using Yarp.ReverseProxy.Forwarder;

namespace Shop.Gateway;

/// <summary>
/// A service that refuses the connection is not running: that is 503 Service Unavailable with a
/// Retry-After, not YARP's 502 Bad Gateway (which stays for a service that answered wrongly or
/// broke off mid-response). Status code pages then write the problem body.
/// </summary>
public static class UnreachableServiceMiddleware
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        await next();
        var error = context.GetForwarderErrorFeature();
        if (error?.Error == ForwarderError.Request
            && error.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
            && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = ShopProblems.RetryAfterHeader;
        }
    }
}
