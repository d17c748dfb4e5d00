using System.Runtime.ExceptionServices;
using Shop.Orders.Services;

namespace Shop.UnitTests.Orders;

/// <summary>How a background job is woken (<see cref="WakeSignal"/>) and how long it sleeps when nothing wakes it.</summary>
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

    [Fact]
    public async Task Commits_notifying_at_once_never_overfill_the_signal_and_their_wake_ups_collapse_into_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var signal = new WebhookDispatchSignal();
        var overfilled = 0;
        EventHandler<FirstChanceExceptionEventArgs> countOverfills = (_, e) =>
        {
            if (e.Exception is SemaphoreFullException)
            {
                Interlocked.Increment(ref overfilled);
            }
        };
        AppDomain.CurrentDomain.FirstChanceException += countOverfills;
        try
        {
            // Two commits notifying at the same instant, again and again, each time with the signal clear:
            // the moment when both could see it clear and both release it.
            using var together = new Barrier(2, _ => signal.WaitAsync(null, TimeSpan.Zero, ct).GetAwaiter().GetResult());
            await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
            {
                for (var i = 0; i < 50_000; i++)
                {
                    together.SignalAndWait(ct);
                    signal.Notify();
                }
            }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

            Assert.True(Volatile.Read(ref overfilled) == 0, $"in {overfilled} of 50,000 rounds both notifications released the signal (a SemaphoreFullException, thrown and swallowed)");
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= countOverfills;
        }

        await signal.WaitAsync(null, TimeSpan.Zero, ct);
        signal.Notify();
        signal.Notify();
        Assert.True(await signal.WaitAsync(null, TimeSpan.FromSeconds(10), ct), "a notification did not wake the loop");
        Assert.False(await signal.WaitAsync(null, TimeSpan.FromMilliseconds(50), ct), "two notifications before a pass woke it twice");
    }
}
