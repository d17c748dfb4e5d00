using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

/// <summary>
/// A background job that runs at start and then every <see cref="Interval"/>; a failed pass is logged
/// and tried again at the next one. Each pass must be safe to run on several replicas at once. Orders' expiry and
/// retention jobs, Users' publication of recorded security stamps.
/// </summary>
public abstract class RepeatingJob(ILogger logger) : BackgroundService
{
    protected abstract TimeSpan Interval { get; }

    protected abstract Task RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "{Job} pass failed; retrying in {Interval}", GetType().Name, Interval);
            }
            try
            {
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
