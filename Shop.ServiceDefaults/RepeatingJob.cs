using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

/// <summary>
/// A background job that runs at start (or <see cref="FirstPassAfter"/> it) and then every <see cref="Interval"/>; a
/// failed pass is tried again at the next one. Each pass must be safe to run on several replicas at once. Orders'
/// expiry and retention jobs, Users' publication of recorded security stamps.
/// </summary>
/// <remarks>A run of failed passes is logged as <see cref="FailedPassLog"/> says.</remarks>
/// <param name="clock">Only the tests set it, to make a long outage take no time.</param>
public abstract class RepeatingJob(ILogger logger, TimeProvider? clock = null) : BackgroundService
{
    protected abstract TimeSpan Interval { get; }

    /// <summary>How long after the start the first pass runs: at once, unless the job's start did that pass's work.</summary>
    protected virtual TimeSpan FirstPassAfter => TimeSpan.Zero;

    protected abstract Task RunOnceAsync(CancellationToken ct);

    private FailedPassLog? _failedPasses;

    /// <summary>
    /// The job's one account of its failures: a start that does a pass's work reports its failure here too, so that it
    /// and the first pass after it are one run of failures (one Warning), not two.
    /// </summary>
    protected FailedPassLog FailedPasses => _failedPasses ??= new FailedPassLog(logger, GetType().Name, clock);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failed = FailedPasses;
        if (!await DelayAsync(FirstPassAfter, stoppingToken))
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                failed.Succeeded();
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failed.Failed(e, Interval);
            }
            if (!await DelayAsync(Interval, stoppingToken))
            {
                return;
            }
        }
    }

    /// <summary>False when the host is stopping.</summary>
    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
