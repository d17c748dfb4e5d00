using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

/// <summary>
/// What a background job says about its failed passes (the database or Redis away): one Warning when a run of failures
/// begins, Debug while it lasts, a Warning again every <see cref="StillFailingWarningEvery"/> saying for how long, and one
/// Information when a pass succeeds again. A Warning every pass, per job and replica, buried the line that said when the
/// outage began. Used by one job's loop at a time (not thread-safe).
/// </summary>
/// <param name="clock">Only the tests set it, to make a long outage take no time.</param>
public sealed class FailedPassLog(ILogger logger, string job, TimeProvider? clock = null)
{
    /// <summary>While passes keep failing, how often it is said again at Warning.</summary>
    public static readonly TimeSpan StillFailingWarningEvery = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private int _failures;
    private long _failingSince, _warnedAt;

    /// <param name="retryIn">The longest the job waits before it tries again (a wake-up may come sooner), for the log.</param>
    public void Failed(Exception e, TimeSpan retryIn)
    {
        var now = _clock.GetTimestamp();
        if (_failures++ == 0)
        {
            _failingSince = _warnedAt = now;
            logger.LogWarning(e, "{Job} pass failed; retrying within {Interval} (failures that follow are logged at Debug until a pass succeeds)", job, retryIn);
        }
        else if (_clock.GetElapsedTime(_warnedAt, now) >= StillFailingWarningEvery)
        {
            _warnedAt = now;
            logger.LogWarning(e, "{Job} passes have been failing for {Duration} ({Failures} in a row); retrying within {Interval}",
                job, _clock.GetElapsedTime(_failingSince, now), _failures, retryIn);
        }
        else
        {
            logger.LogDebug(e, "{Job} pass failed again ({Failures} in a row, for {Duration})", job, _failures, _clock.GetElapsedTime(_failingSince, now));
        }
    }

    public void Succeeded()
    {
        if (_failures == 0)
        {
            return;
        }
        logger.LogInformation("{Job} passes work again, after {Failures} failed passes over {Duration}", job, _failures, _clock.GetElapsedTime(_failingSince));
        _failures = 0;
    }
}
