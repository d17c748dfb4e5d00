using Shop.ServiceDefaults;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Shop.Gateway;

/// <summary>
/// The browser sends its refresh cookie (<see cref="RefreshCookies"/>, <c>Path=/</c> as its <c>__Host-</c> prefix
/// requires) with every request to the shop. Only Users' refresh route reads it: every other request is forwarded
/// without it, so the refresh token reaches no other service, the web app or their logs, and no other Users route
/// (sign-out must not end a session named by a cookie that may be another user's).
/// </summary>
internal static class RefreshCookieForwarding
{
    public static void AddTo(TransformBuilderContext context) =>
        context.AddRequestTransform(transform =>
        {
            if (!ReadsRefreshCookie(context.Route.ClusterId, transform.HttpContext.Request.Path))
            {
                StripFrom(transform.ProxyRequest.Headers);
            }
            return ValueTask.CompletedTask;
        });

    internal static bool ReadsRefreshCookie(string? clusterId, PathString path) =>
        clusterId == "users" && path.StartsWithSegments(RefreshCookies.ReadUnder);

    private static void StripFrom(System.Net.Http.Headers.HttpRequestHeaders headers)
    {
        if (!headers.TryGetValues("Cookie", out var values))
        {
            return;
        }
        var kept = values.Select(RefreshCookies.Without).OfType<string>().ToList();
        headers.Remove("Cookie");
        if (kept.Count > 0)
        {
            headers.TryAddWithoutValidation("Cookie", string.Join("; ", kept));
        }
    }
}
