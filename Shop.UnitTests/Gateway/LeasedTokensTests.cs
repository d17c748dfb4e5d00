using Shop.Gateway.RateLimiting;

namespace Shop.UnitTests.Gateway;

public sealed class LeasedTokensTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Now { get; set; } = 1_000_000;

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => Now;
    }

    [Theory]
    [InlineData(10, 20, 1)] // a real client's burst: one token per call, as without leasing
    [InlineData(19, 20, 1)]
    [InlineData(100, 20, 10)]
    [InlineData(600, 20, 20)]
    [InlineData(1_000_000, 20, 20)]
    [InlineData(1_000_000, 1, 1)] // leasing off
    [InlineData(1_000_000, 0, 1)]
    public void A_replica_leases_a_tenth_of_the_burst_up_to_the_maximum(int tokenLimit, int maxLease, int expected) =>
        Assert.Equal(expected, LeasedTokens.SizeFor(new GatewayRateLimitOptions.TokenBucket { TokenLimit = tokenLimit, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromSeconds(1) }, maxLease));

    [Fact]
    public void Leased_tokens_are_handed_out_once_each()
    {
        var leased = new LeasedTokens(new ManualClock());
        Assert.False(leased.TryTake());

        leased.Add(3, TimeSpan.FromSeconds(1));

        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(_ => leased.TryTake()));
    }

    [Fact]
    public void Unused_tokens_are_dropped_when_the_lease_ends_and_not_carried_into_the_next()
    {
        var clock = new ManualClock();
        var leased = new LeasedTokens(clock);
        leased.Add(5, TimeSpan.FromSeconds(1));
        Assert.True(leased.TryTake());

        clock.Now += 1000;
        Assert.False(leased.TryTake());

        leased.Add(2, TimeSpan.FromSeconds(1));
        Assert.Equal([true, true, false], Enumerable.Range(0, 3).Select(_ => leased.TryTake()));
    }

    [Fact]
    public void Tokens_added_within_a_lease_join_the_ones_left()
    {
        var clock = new ManualClock();
        var leased = new LeasedTokens(clock);
        leased.Add(2, TimeSpan.FromSeconds(1));
        clock.Now += 500;
        leased.Add(2, TimeSpan.FromSeconds(1));
        clock.Now += 900; // past the first lease's end, within the second's

        Assert.Equal(4, Enumerable.Range(0, 6).Count(_ => leased.TryTake()));
    }
}
