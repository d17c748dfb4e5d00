using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// What a <see cref="RepeatingJob"/> says while its passes fail (the database or Redis away) and when they work again.
/// Every failed pass used to be a Warning: every 5 s per job per replica for as long as an outage lasted, burying the
/// one line that said when it began.
/// </summary>
public sealed class RepeatingJobTests
{
    [Fact]
    public async Task A_run_of_failures_is_one_warning_then_debug_and_one_information_when_a_pass_succeeds_again()
    {
        var log = new FakeLogger();
        var job = new FailingJob(failures: 5, log);
        await RunUntilAsync(job, () => job.Passes >= 7);

        var entries = log.Collector.GetSnapshot();
        var warning = Assert.Single(entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(LogLevel.Warning, warning.Level); // an outage is expected: never an Error
        Assert.Same(job.Failures[0], warning.Exception);
        Assert.Equal(4, entries.Count(e => e.Level == LogLevel.Debug));
        var recovered = Assert.Single(entries, e => e.Level == LogLevel.Information);
        Assert.Contains("5", recovered.Message);
        // The passes that succeed after it say nothing.
        Assert.Equal(recovered, entries[^1]);
    }

    [Fact]
    public async Task A_long_run_of_failures_warns_again_every_five_minutes_saying_for_how_long()
    {
        var clock = new SteppedClock();
        var log = new FakeLogger();
        // Each failed pass takes a minute of the job's clock: failures at 0, 1, … 10 minutes.
        var job = new FailingJob(failures: 11, log, clock, onFailure: () => clock.Advance(TimeSpan.FromMinutes(1)));
        await RunUntilAsync(job, () => job.Passes >= 12);

        var warnings = log.Collector.GetSnapshot().Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.Equal(3, warnings.Count); // the first, after 5 minutes, after 10
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Contains("00:05:00", warnings[1].Message);
        Assert.Contains("00:10:00", warnings[2].Message);
    }

    /// <summary>Orders' jobs run their first pass at start; Users' stamp sweep, whose start has just read its table, waits.</summary>
    [Fact]
    public async Task The_first_pass_runs_at_start_unless_the_job_waits_and_a_stop_ends_the_wait()
    {
        var atOnce = new FailingJob(failures: 0, NullLogger.Instance);
        await RunUntilAsync(atOnce, () => atOnce.Passes >= 1);

        var waiting = new FailingJob(failures: 0, NullLogger.Instance, firstPassAfter: TimeSpan.FromMinutes(10));
        await waiting.StartAsync(TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        await waiting.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(0, waiting.Passes);
    }

    private static async Task RunUntilAsync(FailingJob job, Func<bool> done)
    {
        await job.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            // The bound only keeps a failing run from hanging the suite; the interval is 10 ms.
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!done())
            {
                await Task.Delay(10, patience.Token);
            }
        }
        finally
        {
            await job.StopAsync(CancellationToken.None);
        }
    }

    private sealed class FailingJob(int failures, ILogger logger, TimeProvider? clock = null, Action? onFailure = null, TimeSpan firstPassAfter = default)
        : RepeatingJob(logger, clock)
    {
        private int _passes;

        public List<Exception> Failures { get; } = [];

        public int Passes => Volatile.Read(ref _passes);

        protected override TimeSpan Interval => TimeSpan.FromMilliseconds(10);

        protected override TimeSpan FirstPassAfter => firstPassAfter;

        protected override Task RunOnceAsync(CancellationToken ct)
        {
            if (Passes < failures)
            {
                var failure = new InvalidOperationException($"pass {Passes + 1} failed");
                Failures.Add(failure);
                onFailure?.Invoke();
                Interlocked.Increment(ref _passes);
                throw failure;
            }
            Interlocked.Increment(ref _passes);
            return Task.CompletedTask;
        }
    }

    /// <summary>The system's timers, but a time that moves only when the test says.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);
    }
}
