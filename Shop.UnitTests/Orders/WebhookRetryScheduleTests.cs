using Shop.Orders.Services.Webhooks;

namespace Shop.UnitTests.Orders;

public sealed class WebhookRetryScheduleTests
{
    private static readonly IReadOnlyList<TimeSpan> Default = new WebhookOptions().EffectiveSchedule;

    [Fact]
    public void The_default_schedule_is_the_documented_one_about_46_hours()
    {
        Assert.Equal(
            [TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30),
             TimeSpan.FromHours(1), TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromHours(24)],
            Default);
        Assert.InRange(Default.Aggregate(TimeSpan.Zero, (a, b) => a + b).TotalHours, 46, 47);
    }

    [Fact]
    public void A_configured_schedule_replaces_the_default()
    {
        var options = new WebhookOptions { RetrySchedule = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)] };

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], options.EffectiveSchedule);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(10)]
    public void Each_failed_attempt_waits_its_entry_within_plus_minus_20_percent(int attempts)
    {
        var entry = Default[attempts - 1];

        Assert.Equal(entry * 0.8, WebhookDispatcher.RetryDelay(Default, attempts, 0));
        Assert.Equal(entry, WebhookDispatcher.RetryDelay(Default, attempts, 0.5));
        var longest = WebhookDispatcher.RetryDelay(Default, attempts, Math.BitDecrement(1.0))!.Value;
        Assert.InRange(longest, entry * 1.19, entry * 1.2); // the top of the range rounds to 1.2 in doubles and ticks
    }

    [Fact]
    public void After_the_last_entry_the_delivery_gives_up()
    {
        Assert.NotNull(WebhookDispatcher.RetryDelay(Default, Default.Count, 0.5));
        Assert.Null(WebhookDispatcher.RetryDelay(Default, Default.Count + 1, 0.5));
    }

    [Fact]
    public void Random_draws_stay_inside_the_bounds()
    {
        var random = new Random(19);
        for (var i = 0; i < 1000; i++)
        {
            var delay = WebhookDispatcher.RetryDelay(Default, 1, random.NextDouble())!.Value;
            Assert.InRange(delay, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12));
        }
    }

    [Fact]
    public void A_subscribers_pause_follows_the_schedule_and_stays_at_its_last_entry()
    {
        Assert.Equal(Default[0], WebhookDispatcher.PauseAfter(Default, 1, 0.5));
        Assert.Equal(Default[3], WebhookDispatcher.PauseAfter(Default, 4, 0.5));
        Assert.Equal(Default[^1], WebhookDispatcher.PauseAfter(Default, Default.Count + 50, 0.5));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(429)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public void No_answer_or_an_answer_that_says_it_cannot_take_deliveries_now_is_about_the_subscriber(int? status) =>
        Assert.Equal(SubscriberReach.Unavailable, WebhookDispatcher.ReachOf(status));

    [Theory]
    [InlineData(200)]
    [InlineData(204)]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(410)]
    [InlineData(500)]
    public void Any_other_answer_is_about_the_delivery_and_the_subscriber_is_there(int status) =>
        Assert.Equal(SubscriberReach.Answered, WebhookDispatcher.ReachOf(status));
}
