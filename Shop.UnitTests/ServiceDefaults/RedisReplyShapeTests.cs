using Shop.ServiceDefaults;
using StackExchange.Redis;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// A reply that is not the command's (another command's, paired with it after a connection reset) is treated as
/// Redis being unavailable: the callers' catch (<see cref="ShopRedisExtensions.IsUnavailability"/>) sends them to
/// their source, where an IndexOutOfRangeException used to escape as a 500. No Redis here can be made to answer
/// out of turn, so these check the rule the callers (CacheStore, SecurityStamps, the gateway's token bucket) use.
/// </summary>
public sealed class RedisReplyShapeTests
{
    [Fact]
    public void A_reply_with_the_values_asked_for_is_the_reply()
    {
        RedisValue[] reply = ["a", RedisValue.Null];

        Assert.Same(reply, reply.WithLength(2, "MGET"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void A_reply_with_other_than_the_values_asked_for_is_an_unavailability_worth_a_warning(int length)
    {
        var reply = new RedisValue[length];

        var e = Assert.Throws<RedisException>(() => reply.WithLength(2, "MGET"));

        Assert.True(ShopRedisExtensions.IsUnavailability(e));
        Assert.True(ShopRedisExtensions.IsWrongReply(e));
        Assert.Contains($"{length} values where 2", e.Message);
    }

    [Fact]
    public void No_reply_at_all_is_a_wrong_shape_too()
    {
        var e = Assert.Throws<RedisException>(() => ((RedisResult[]?)null).WithLength(2, "the token bucket's script"));

        Assert.True(ShopRedisExtensions.IsUnavailability(e));
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_an_unavailability_worth_a_warning()
    {
        // A script's integer reply that is another command's string: the cast fails.
        var e = Record.Exception(() => (long)RedisResult.Create((RedisValue)"{\"name\":\"item 3\"}"));

        Assert.NotNull(e);
        Assert.True(ShopRedisExtensions.IsUnavailability(e));
        Assert.True(ShopRedisExtensions.IsWrongReply(e));
    }

    [Fact]
    public void A_timeout_is_an_unavailability_and_no_news()
    {
        var e = new TimeoutException("no answer");

        Assert.True(ShopRedisExtensions.IsUnavailability(e));
        Assert.False(ShopRedisExtensions.IsWrongReply(e));
    }
}
