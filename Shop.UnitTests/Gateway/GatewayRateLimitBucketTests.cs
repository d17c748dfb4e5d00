using System.Net;
using Microsoft.AspNetCore.Http;
using Shop.Gateway.RateLimiting;

namespace Shop.UnitTests.Gateway;

public sealed class GatewayRateLimitBucketTests
{
    private static readonly GatewayRateLimitOptions Options = new();
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    [Theory]
    [InlineData("203.0.113.7", "a:203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "a:203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "a:2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "a:2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::1", "a:2001:db8:1:3::/64")]
    public void An_ipv4_address_counts_alone_and_an_ipv6_address_by_its_64(string address, string key) =>
        Assert.Equal(key, GatewayRateLimiter.ClientKey(IPAddress.Parse(address)));

    [Theory]
    [InlineData("/users/login")]
    [InlineData("/users/register")]
    [InlineData("/Users/Login/")]
    public void Sign_in_posts_draw_from_a_shared_bucket_per_route_and_address(string path)
    {
        var bucket = GatewayRateLimiter.SharedBucket(TestRequest.Create("POST", path), Client, "u:7", Options);

        Assert.NotNull(bucket);
        Assert.Equal(("sign-in", $"rl:signin:{path.TrimEnd('/').ToLowerInvariant()}:a:203.0.113.7"), (bucket.Kind, bucket.Key));
        Assert.Same(Options.SignIn, bucket.Settings);
        Assert.Same(bucket, bucket.WithUser("u:7"));
    }

    [Theory]
    [InlineData("/users/token/refresh")]
    [InlineData("/Users/Token/Refresh/")]
    public void A_token_refresh_draws_from_a_shared_bucket_of_its_own_per_address_larger_than_sign_ins(string path)
    {
        var bucket = GatewayRateLimiter.SharedBucket(TestRequest.Create("POST", path), Client, "u:7", Options);

        Assert.NotNull(bucket);
        Assert.Equal(("refresh", "rl:refresh:a:203.0.113.7"), (bucket.Kind, bucket.Key));
        Assert.Same(Options.Refresh, bucket.Settings);
        Assert.True(Options.Refresh.TokenLimit > Options.SignIn.TokenLimit && Options.Refresh.TokensPerSecond > Options.SignIn.TokensPerSecond);
        Assert.Same(bucket, bucket.WithUser("u:7"));
    }

    [Theory]
    [InlineData("/orders")]
    [InlineData("/orders/")]
    public void Placing_an_order_draws_from_a_shared_bucket_per_user_or_else_per_address(string path)
    {
        var bucket = GatewayRateLimiter.SharedBucket(TestRequest.Create("POST", path), Client, "u:7", Options);

        Assert.NotNull(bucket);
        Assert.Equal("order", bucket.Kind);
        Assert.Same(Options.PlaceOrder, bucket.Settings);
        Assert.Equal("rl:order:u:7", bucket.WithUser("u:7").Key);
        Assert.Equal("rl:order:a:203.0.113.7", bucket.WithUser(null).Key);
    }

    [Theory]
    [InlineData("GET", "/users/login")]
    [InlineData("GET", "/orders")]
    [InlineData("POST", "/orders/0b6c5e4e-0000-0000-0000-000000000001/cancel")]
    [InlineData("POST", "/inventory/items")]
    [InlineData("POST", "/users/logout")]
    [InlineData("PATCH", "/users/8")]
    [InlineData("PATCH", "/users/me")]
    [InlineData("PATCH", "/users//7")]
    [InlineData("PATCH", "/users/7/x")]
    [InlineData("PATCH", "/orders/0b6c5e4e-0000-0000-0000-000000000001")]
    [InlineData("GET", "/users/7")]
    public void Every_other_request_draws_from_the_general_budget(string method, string path) =>
        Assert.Null(GatewayRateLimiter.SharedBucket(TestRequest.Create(method, path), Client, "u:7", Options));

    /// <summary>
    /// A change of one's own email or password checks the current password (a hash as costly as a sign-in), so it is
    /// counted per address as sign-in is, whatever spelling of the id Users' <c>{id:int}</c> route would accept.
    /// </summary>
    [Theory]
    [InlineData("/users/7")]
    [InlineData("/users/7/")]
    [InlineData("/users/007")]
    [InlineData("/users/+7")]
    [InlineData("/users/ 7")]
    [InlineData("/users/7 ")]
    [InlineData("/USERS/7")]
    public void A_users_change_to_their_own_account_draws_from_a_shared_bucket_per_address(string path)
    {
        var bucket = GatewayRateLimiter.SharedBucket(TestRequest.Create("PATCH", path), Client, "u:7", Options);

        Assert.NotNull(bucket);
        Assert.Equal(("account-change", "rl:account:a:203.0.113.7"), (bucket.Kind, bucket.Key));
        Assert.Same(Options.AccountChange, bucket.Settings);
        Assert.Same(bucket, bucket.WithUser("u:7"));
    }

    [Fact]
    public void An_anonymous_change_to_an_account_is_left_to_the_general_budget_and_users_401() =>
        Assert.Null(GatewayRateLimiter.SharedBucket(TestRequest.Create("PATCH", "/users/7"), Client, null, Options));

    [Fact]
    public void The_general_budget_counts_a_validated_user_by_id_and_anyone_else_by_address()
    {
        Assert.Equal("rl:req:u:7", GatewayRateLimiter.RequestsBucket(Client, "u:7", Options).Key);
        var anonymous = GatewayRateLimiter.RequestsBucket(Client, null, Options);
        Assert.Equal(("request", "rl:req:a:203.0.113.7"), (anonymous.Kind, anonymous.Key));
        Assert.Same(Options.Requests, anonymous.Settings);
    }

    [Theory]
    [InlineData("GET", "/inventory/sku-1", "u:7", "rl:req:u:7")]
    [InlineData("GET", "/inventory/sku-1", null, "rl:req:a:203.0.113.7")]
    [InlineData("POST", "/orders/", "u:7", "rl:order:u:7")]
    [InlineData("POST", "/orders/", null, "rl:order:a:203.0.113.7")]
    [InlineData("POST", "/users/login", null, "rl:signin:/users/login:a:203.0.113.7")]
    public void A_request_draws_from_its_shared_bucket_counted_for_its_user_or_else_from_the_general_budget(string method, string path, string? userKey, string key) =>
        Assert.Equal(key, GatewayRateLimiter.BucketFor(TestRequest.Create(method, path), Client, userKey, Options).Key);
}
