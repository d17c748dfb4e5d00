namespace Shop.Orders.Services;

/// <summary>
/// A background job that runs a pass, then sleeps until its signal wakes it (work announced by the
/// database, on any replica), until the earliest work it knows of falls due, or for its fallback poll,
/// whichever comes first. A pass that reports more work runs the next at once. Each pass must be safe
/// to run on several replicas at once. A run of failed passes is logged as <see cref="FailedPassLog"/> says.
/// </summary>
public abstract class SignalledJob(WakeSignal signal, ILogger logger) : BackgroundService
{
    /// <summary>After a failed pass (the database away, say), the next comes this soon even if nothing wakes the job.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    /// <summary>The longest sleep: what a lost notification could delay.</summary>
    protected abstract TimeSpan FallbackPoll { get; }

    /// <summary>
    /// How long a pass waits after a wake-up, so that work announced meanwhile shares the pass instead of
    /// each announcement costing a pass of its own.
    /// </summary>
    protected virtual TimeSpan GatherAfterWake => TimeSpan.Zero;

    /// <summary>Waits <see cref="GatherAfterWake"/> after a wake-up.</summary>
    protected virtual Task GatherAsync(CancellationToken ct) =>
        GatherAfterWake > TimeSpan.Zero ? Task.Delay(GatherAfterWake, ct) : Task.CompletedTask;

    protected abstract Task<JobPass> RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failed = new FailedPassLog(logger, GetType().Name);
        while (!stoppingToken.IsCancellationRequested)
        {
            JobPass pass;
            try
            {
                pass = await RunOnceAsync(stoppingToken);
                failed.Succeeded();
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failed.Failed(e, RetryAfterFailure);
                pass = new JobPass(false, DateTime.UtcNow + RetryAfterFailure);
            }
            if (!pass.More)
            {
                try
                {
                    if (await signal.WaitAsync(pass.NextDue, FallbackPoll, stoppingToken))
                    {
                        await GatherAsync(stoppingToken);
                        // Announcements are made after their commits, so the pass starting now sees the work
                        // of every one made so far; those made while gathering need no pass of their own.
                        signal.Clear();
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <param name="More">More work may be waiting right now (a full batch was handled): the next pass starts at once.</param>
/// <param name="NextDue">The earliest work left that falls due later, when the job should look again unless woken sooner.</param>
public readonly record struct JobPass(bool More, DateTime? NextDue);
