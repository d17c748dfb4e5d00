using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Shop.Orders.Services;

namespace Shop.UnitTests.Orders;

/// <summary>How a background job's passes follow its wake-ups (<see cref="SignalledJob"/>).</summary>
public sealed class SignalledJobTests
{
    [Fact]
    public async Task Work_announced_while_the_job_gathers_after_a_wake_up_shares_that_pass_and_costs_no_pass_of_its_own()
    {
        var ct = TestContext.Current.CancellationToken;
        var signal = new TestSignal();
        var job = new CountingJob(signal);
        await job.StartAsync(ct);
        try
        {
            await WaitForPassesAsync(job, 1); // the pass every job runs when it starts

            // Taken before the wake-up: asked for after it, a gathering already started would be missed and the
            // test would wait for the one after it, which never comes.
            var started = job.NextGatheringAsync();
            signal.Notify();
            var gathering = await started.WaitAsync(TimeSpan.FromSeconds(30), ct);
            var next = job.NextGatheringAsync();
            signal.Notify(); // two more commits announced while the first wake-up gathers
            signal.Notify();
            gathering.SetResult();
            await WaitForPassesAsync(job, 2);

            // That pass saw all three commits: the job must go back to sleep, not wake for the two announcements
            // it already covered. (On a slow machine this only waits less long for a wrong wake-up to show.)
            Assert.False(await Task.WhenAny(next, Task.Delay(300, ct)) == next,
                "the job woke again for the two announcements its pass had already covered");
            Assert.Equal(2, job.Passes);
        }
        finally
        {
            await job.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Orders' webhook dispatch and stock releases retry a failed pass every 5 s; while the database is away that was a
    /// Warning every 5 s per job and replica. A run of failures is one Warning, then Debug, then one Information.
    /// </summary>
    [Fact]
    public async Task A_run_of_failed_passes_is_one_warning_then_debug_and_one_information_when_a_pass_succeeds_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var signal = new TestSignal();
        var log = new FakeLogger();
        var job = new FailingJob(signal, failures: 4, log);
        await job.StartAsync(ct);
        try
        {
            // A failed pass is retried after 5 s unless woken: the test wakes it instead.
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (job.Passes < 6)
            {
                signal.Notify();
                await Task.Delay(10, patience.Token);
            }
        }
        finally
        {
            await job.StopAsync(CancellationToken.None);
        }

        var entries = log.Collector.GetSnapshot();
        var warning = Assert.Single(entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal(3, entries.Count(e => e.Level == LogLevel.Debug));
        Assert.Contains("4", Assert.Single(entries, e => e.Level == LogLevel.Information).Message);
    }

    private static async Task WaitForPassesAsync(CountingJob job, int passes)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (job.Passes < passes)
        {
            await Task.Delay(10, patience.Token);
        }
    }

    private sealed class TestSignal : WakeSignal;

    private sealed class FailingJob(WakeSignal signal, int failures, ILogger logger) : SignalledJob(signal, logger)
    {
        private int _passes;

        public int Passes => Volatile.Read(ref _passes);

        protected override TimeSpan FallbackPoll => TimeSpan.FromMinutes(10);

        protected override Task<JobPass> RunOnceAsync(CancellationToken ct)
        {
            var pass = Interlocked.Increment(ref _passes);
            return pass <= failures ? throw new InvalidOperationException($"pass {pass} failed") : Task.FromResult(new JobPass(false, null));
        }
    }

    /// <summary>A job whose gathering after each wake-up lasts until the test ends it.</summary>
    private sealed class CountingJob(WakeSignal signal) : SignalledJob(signal, NullLogger.Instance)
    {
        private readonly Lock _gate = new();
        private TaskCompletionSource<TaskCompletionSource> _gatheringStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _passes;

        public int Passes => Volatile.Read(ref _passes);

        protected override TimeSpan FallbackPoll => TimeSpan.FromMinutes(10);

        /// <summary>The next gathering, once it has started; the job's pass follows when the test completes it.</summary>
        public Task<TaskCompletionSource> NextGatheringAsync()
        {
            lock (_gate)
            {
                return _gatheringStarted.Task;
            }
        }

        protected override async Task GatherAsync(CancellationToken ct)
        {
            var gathering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            TaskCompletionSource<TaskCompletionSource> started;
            lock (_gate)
            {
                started = _gatheringStarted;
                _gatheringStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            started.SetResult(gathering);
            await gathering.Task.WaitAsync(ct);
        }

        protected override Task<JobPass> RunOnceAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref _passes);
            return Task.FromResult(new JobPass(false, null));
        }
    }
}
