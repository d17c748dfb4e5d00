using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Orders.Services.Clients;
using Shop.Orders.Data;

namespace Shop.Orders.Services;

/// <summary>
/// Returns stock whose release is due: cancelled or expired orders whose immediate release failed, and
/// reservations whose order was never stored. Inventory releases at most once per order, so several
/// instances working the same row is harmless. It sleeps until the earliest row falls due, unless
/// <see cref="StockReleaseSignal"/> wakes it sooner (a release made due now, on any replica), and at
/// most <c>Orders:StockReleasePollInterval</c>.
/// </summary>
public sealed class StockReleaseWorker(
    IServiceScopeFactory scopes, StockReleaseSignal signal, IOptions<OrdersOptions> options, ILogger<StockReleaseWorker> logger) : SignalledJob(signal, logger)
{
    protected override TimeSpan FallbackPoll => options.Value.StockReleasePollInterval;

    private const int BatchSize = 50;

    protected override async Task<JobPass> RunOnceAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
        var inventory = scope.ServiceProvider.GetRequiredService<InventoryClient>();
        var releaseNow = signal.ToReleaseNow();
        var due = await db.StockReleases.AsNoTracking()
            .Where(r => r.DueAt <= DateTime.UtcNow || releaseNow.Contains(r.OrderId)).OrderBy(r => r.DueAt).Take(BatchSize).ToListAsync(ct);
        var reached = false;
        var failed = new ReleaseFailures();
        foreach (var release in due)
        {
            StockReleases.ReleaseOutcome outcome;
            try
            {
                outcome = await StockReleases.ReleaseAsync(db, inventory, release.OrderId, ct);
            }
            catch (ServiceUnavailableException e)
            {
                if (failed.Add(e))
                {
                    logger.LogError("Stock releases are held back: {Reason}", e.Message);
                }
                var backoff = TimeSpan.FromSeconds(Math.Min(300, 5 * Math.Pow(2, Math.Min(release.Attempts, 6))));
                await db.StockReleases.Where(r => r.OrderId == release.OrderId)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.Attempts, r => r.Attempts + 1)
                        .SetProperty(r => r.DueAt, DateTime.UtcNow + backoff), ct);
                continue;
            }
            if (outcome == StockReleases.ReleaseOutcome.Released)
            {
                reached = true;
                logger.LogInformation("Released stock of order {OrderId}", release.OrderId);
            }
            if (outcome != StockReleases.ReleaseOutcome.NothingToRelease)
            {
                await StockReleases.DeleteRowAsync(db, release.OrderId, ct);
            }
        }
        // Handed over and tried now, or with no row left (stored, or released elsewhere); a full batch may have left
        // some out, which stay for the next pass, and a pass that failed keeps them all.
        signal.Released(due.Count < BatchSize ? releaseNow : releaseNow.Where(id => due.Any(r => r.OrderId == id)));
        if (reached)
        {
            // Inventory answers again: what was backing off while it was away is due now, not minutes later.
            await db.StockReleases.Where(r => r.Attempts > 0 && r.DueAt > DateTime.UtcNow)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.DueAt, DateTime.UtcNow), ct);
        }
        var nextDue = await db.StockReleases.MinAsync(r => (DateTime?)r.DueAt, ct);
        return new JobPass(due.Count == BatchSize && failed.Count < due.Count, nextDue);
    }
}

/// <summary>One pass's failed releases, and which of them an operator must hear of.</summary>
internal sealed class ReleaseFailures
{
    private bool _refusalReported;

    public int Count { get; private set; }

    /// <summary>
    /// Counts the failure; true when it is to be logged as an Error. A refused service key is, once a pass: stock
    /// stays held until an operator fixes the keys, and no health check says so. An outage passes by itself.
    /// </summary>
    public bool Add(ServiceUnavailableException failure)
    {
        Count++;
        // The first refusal, not the first failure: an outage earlier in the pass must not hide it.
        if (failure.RefusedKeyStatus is null || _refusalReported)
        {
            return false;
        }
        _refusalReported = true;
        return true;
    }
}
