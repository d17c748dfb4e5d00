using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

public sealed class BackgroundRetryTests
{
    /// <summary>
    /// The retry keeps deferred cache invalidations and security stamps that Redis did not take. An attempt that
    /// throws something its caller did not expect (a reply of a shape it did not foresee, a bug) must not end the
    /// loop: it used to fault the loop's task while the loop stayed marked as running, so nothing was retried again
    /// for the life of the process, and nothing said so. Now it is logged as the bug it is, and the loop goes on.
    /// </summary>
    [Fact]
    public async Task An_attempt_that_throws_does_not_end_the_retries()
    {
        var attempts = 0;
        var done = new TaskCompletionSource();
        var log = new FakeLogger();
        var retry = new BackgroundRetry(
            hasWork: () => !done.Task.IsCompleted,
            attempt: () =>
            {
                if (++attempts == 1)
                {
                    throw new InvalidOperationException("unexpected reply");
                }
                done.TrySetResult();
                return Task.CompletedTask;
            },
            interval: TimeSpan.FromMilliseconds(10),
            logger: log);

        retry.Schedule();

        // The bound only keeps a failing run from hanging the suite; the interval is 10 ms.
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(2, attempts);
        var failure = Assert.Single(log.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.IsType<InvalidOperationException>(failure.Exception);
    }
}
