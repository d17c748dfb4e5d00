using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

/// <summary>
/// A background job that runs at start (or <see cref="FirstPassAfter"/> it) and then every <see cref="Interval"/>; a
/// failed pass is tried again at the next one. Each pass must be safe to run on several replicas at once. Orders'
/// expiry and retention jobs, Users' publication of recorded security stamps.
/// </summary>
/// <remarks>
/// A run of failed passes (the database or Redis away) is one Warning when it begins, Debug while it lasts, a Warning
/// again every <see cref="StillFailingWarningEvery"/> saying for how long, and one Information when a pass succeeds
/// again: a Warning every pass, per job and replica, buried the line that said when the outage began.
/// </remarks>
/// <param name="clock">Only the tests set it, to make a long outage take no time.</param>
public abstract class RepeatingJob(ILogger logger, TimeProvider? clock = null) : BackgroundService
{
    /// <summary>While passes keep failing, how often it is said again at Warning.</summary>
    public static readonly TimeSpan StillFailingWarningEvery = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    protected abstract TimeSpan Interval { get; }

    /// <summary>How long after the start the first pass runs: at once, unless the job's start did that pass's work.</summary>
    protected virtual TimeSpan FirstPassAfter => TimeSpan.Zero;

    protected abstract Task RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        long failingSince = 0, warnedAt = 0;
        if (!await DelayAsync(FirstPassAfter, stoppingToken))
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                if (failures > 0)
                {
                    logger.LogInformation("{Job} passes work again, after {Failures} failed passes over {Duration}",
                        GetType().Name, failures, _clock.GetElapsedTime(failingSince));
                    failures = 0;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                var now = _clock.GetTimestamp();
                if (failures++ == 0)
                {
                    failingSince = warnedAt = now;
                    logger.LogWarning(e, "{Job} pass failed; retrying every {Interval} (failures that follow are logged at Debug until a pass succeeds)", GetType().Name, Interval);
                }
                else if (_clock.GetElapsedTime(warnedAt, now) >= StillFailingWarningEvery)
                {
                    warnedAt = now;
                    logger.LogWarning(e, "{Job} passes have been failing for {Duration} ({Failures} in a row); retrying every {Interval}",
                        GetType().Name, _clock.GetElapsedTime(failingSince, now), failures, Interval);
                }
                else
                {
                    logger.LogDebug(e, "{Job} pass failed again ({Failures} in a row, for {Duration})",
                        GetType().Name, failures, _clock.GetElapsedTime(failingSince, now));
                }
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
