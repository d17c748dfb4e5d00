namespace Shop.Orders.Services;

/// <summary>
/// Wakes a background loop that otherwise sleeps until its next due row or its fallback poll, whichever
/// is sooner. <see cref="DatabaseNotificationListener"/> sets it when the database announces new work.
/// Wake-ups while the loop is busy collapse into one: the pass after it sees everything committed.
/// </summary>
public abstract class WakeSignal
{
    /// <summary>
    /// The shortest sleep when a row is already due: one another replica has claimed but not yet committed
    /// stays due for the claimer's transaction, and re-reading it at once would spin.
    /// </summary>
    private static readonly TimeSpan MinimumSleep = TimeSpan.FromMilliseconds(100);

    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly Lock _notifying = new();

    public void Notify()
    {
        // Notifiers take turns, so two commits at once cannot both see the signal clear and both release it
        // (the second release would throw). A waiter only ever lowers the count, which cannot make a release here fail.
        lock (_notifying)
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
    }

    /// <summary>Forgets a notification not yet taken: the pass about to start covers what it announced.</summary>
    public void Clear() => _signal.Wait(0);

    /// <summary>Sleeps until notified.</summary>
    public Task WaitAsync(CancellationToken ct) => _signal.WaitAsync(ct);

    /// <summary>
    /// Sleeps until notified, until <paramref name="nextDueUtc"/> (when there is one), or for <paramref name="fallbackPoll"/>;
    /// true when notified.
    /// </summary>
    public Task<bool> WaitAsync(DateTime? nextDueUtc, TimeSpan fallbackPoll, CancellationToken ct) =>
        _signal.WaitAsync(SleepFor(nextDueUtc, DateTime.UtcNow, fallbackPoll), ct);

    internal static TimeSpan SleepFor(DateTime? nextDueUtc, DateTime nowUtc, TimeSpan fallbackPoll) => nextDueUtc is { } due
        ? TimeSpan.FromTicks(Math.Clamp((due - nowUtc).Ticks, MinimumSleep.Ticks, Math.Max(MinimumSleep.Ticks, fallbackPoll.Ticks)))
        : fallbackPoll;
}

/// <summary>Wakes <see cref="Webhooks.WebhookDispatcher"/>: outbox rows were committed.</summary>
public sealed class WebhookDispatchSignal : WakeSignal;

/// <summary>
/// Wakes <see cref="StockReleaseWorker"/> (a stock release was made due now), and names the orders whose stock
/// this replica could not give back at once (the database or Inventory away when a placement failed): the worker
/// takes them before their rows fall due, so the stock comes back once both answer again rather than at the
/// guard's delay. Lost with the process; the rows still fall due.
/// </summary>
public sealed class StockReleaseSignal : WakeSignal
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, byte> _releaseNow = new();

    public void ReleaseNow(Guid orderId)
    {
        _releaseNow[orderId] = 0;
        Notify();
    }

    public Guid[] ToReleaseNow() => [.. _releaseNow.Keys];

    public void Released(IEnumerable<Guid> orderIds)
    {
        foreach (var id in orderIds)
        {
            _releaseNow.TryRemove(id, out _);
        }
    }
}
