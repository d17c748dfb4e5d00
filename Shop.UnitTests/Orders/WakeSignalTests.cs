using Shop.Orders.Services;

namespace Shop.UnitTests.Orders;

/// <summary>How long a background job sleeps between passes when nothing wakes it (<see cref="WakeSignal"/>).</summary>
public sealed class WakeSignalTests
{
    private static readonly DateTime Now = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(30);

    [Fact]
    public void With_nothing_due_it_sleeps_the_fallback_poll() =>
        Assert.Equal(Poll, WakeSignal.SleepFor(null, Now, Poll));

    [Fact]
    public void A_retry_due_before_the_poll_wakes_it_then() =>
        Assert.Equal(TimeSpan.FromSeconds(8), WakeSignal.SleepFor(Now.AddSeconds(8), Now, Poll));

    [Fact]
    public void Work_due_after_the_poll_waits_no_longer_than_the_poll() =>
        Assert.Equal(Poll, WakeSignal.SleepFor(Now.AddHours(3), Now, Poll));

    [Fact]
    public void Work_already_due_but_not_claimable_does_not_spin() =>
        Assert.Equal(TimeSpan.FromMilliseconds(100), WakeSignal.SleepFor(Now.AddSeconds(-5), Now, Poll));
}
