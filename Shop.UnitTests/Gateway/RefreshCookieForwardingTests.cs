using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Shop.Gateway;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Gateway;

/// <summary>
/// The refresh cookie (Path=/, so the browser sends it everywhere) is forwarded only to Users' refresh route: never to
/// Orders, Inventory, the web app or another Users route; and Users reads it without picking one of two.
/// </summary>
public sealed class RefreshCookieForwardingTests
{
    [Theory]
    [InlineData("users", "/users/token/refresh", true)]
    [InlineData("users", "/users/token", true)]
    [InlineData("users", "/users/logout", false)]
    [InlineData("users", "/users/me", false)]
    [InlineData("users", "/users/tokenx", false)]
    [InlineData("orders", "/orders/", false)]
    [InlineData("inventory", "/inventory/", false)]
    [InlineData("web", "/users/token/refresh", false)] // a navigation there gets the SPA's page, not the cookie
    [InlineData("web", "/", false)]
    public void Only_users_refresh_route_receives_the_refresh_cookie(string cluster, string path, bool receives) =>
        Assert.Equal(receives, RefreshCookieForwarding.ReadsRefreshCookie(cluster, path));

    [Theory]
    [InlineData("__Host-shop_refresh=secret; shop_session=1; theme=dark", "shop_session=1; theme=dark")]
    [InlineData("shop_refresh=old;__Host-shop_refresh=secret", null)]
    [InlineData("theme=dark", "theme=dark")]
    [InlineData("x__Host-shop_refresh=kept", "x__Host-shop_refresh=kept")]
    public void The_refresh_cookies_are_taken_out_of_a_cookie_header_and_the_rest_kept(string header, string? expected) =>
        Assert.Equal(expected, RefreshCookies.Without(header));

    [Theory]
    [InlineData("__Host-shop_refresh=new", "new", false, false)]
    [InlineData("shop_refresh=old", null, false, true)]
    [InlineData("shop_refresh=tossed; __Host-shop_refresh=new", "new", false, true)]
    [InlineData("shop_refresh=tossed; shop_refresh=old", null, false, true)]
    [InlineData("__Host-shop_refresh=a; __Host-shop_refresh=b", null, true, false)]
    [InlineData("shop_session=1", null, false, false)]
    public void A_request_presents_one_refresh_cookie_or_none(string header, string? token, bool ambiguous, bool legacy) =>
        Assert.Equal(new RefreshCookies.Presented(token, ambiguous, legacy), RefreshCookies.Read(new StringValues(header)));

    [Fact]
    public void Cookies_split_over_several_headers_are_read_as_one() =>
        Assert.True(RefreshCookies.Read(new StringValues(["__Host-shop_refresh=a", "theme=dark; __Host-shop_refresh=b"])).Ambiguous);
}
