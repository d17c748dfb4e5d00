using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.ServiceDefaults;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The cache's deferred-invalidation retry (<see cref="BackgroundRetry"/>, which <see cref="CacheStore"/>
/// runs while Redis is unreachable) must not lose a wake-up: work that arrives after the loop's last
/// "anything left?" check but before the loop lets go must still be done, or <see cref="CacheStore"/>
/// would stop filling the cache in that process.
/// The interleaving is driven exactly through the loop's own check, so the test is deterministic.
/// </summary>
public sealed class CacheRetryTests
{
    [Fact]
    public async Task Work_that_arrives_while_the_retry_loop_is_letting_go_is_still_done()
    {
        var pending = new ConcurrentQueue<string>();
        var done = new ConcurrentQueue<string>();
        var lateArrivalAdded = false;
        BackgroundRetry retry = null!;
        retry = new BackgroundRetry(
            hasWork: () =>
            {
                var hasWork = !pending.IsEmpty;
                if (!hasWork && !lateArrivalAdded)
                {
                    // Another thread's failed invalidation lands right after the check said "nothing left":
                    // it adds its key and asks for a retry while the loop is still marked as running.
                    lateArrivalAdded = true;
                    pending.Enqueue("late");
                    retry.Schedule();
                }
                return hasWork;
            },
            attempt: () =>
            {
                while (pending.TryDequeue(out var item))
                {
                    done.Enqueue(item);
                }
                return Task.CompletedTask;
            },
            interval: TimeSpan.FromMilliseconds(10),
            logger: NullLogger.Instance);

        pending.Enqueue("first");
        retry.Schedule();

        await Eventually.HoldsAsync(() => pending.IsEmpty && done.Contains("late"), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
        Assert.True(lateArrivalAdded, "the loop never ran its last check");
        Assert.Equal(["first", "late"], done.ToArray());
        Assert.Empty(pending);
    }
}
