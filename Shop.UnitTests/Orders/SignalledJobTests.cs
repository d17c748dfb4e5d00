using Microsoft.Extensions.Logging.Abstractions;
using Shop.Orders.Services;

namespace Shop.UnitTests.Orders;

/// <summary>How a background job's passes follow its wake-ups (<see cref="SignalledJob"/>).</summary>
public sealed class SignalledJobTests
{
    [Fact]
    public async Task Work_announced_while_the_job_gathers_after_a_wake_up_shares_that_pass()
    {
        var signal = new TestSignal();
        var job = new CountingJob(signal, gatherAfterWake: TimeSpan.FromSeconds(1));
        await job.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            await WaitForPassesAsync(job, 1); // the pass every job runs when it starts

            signal.Notify();
            await Task.Delay(100, TestContext.Current.CancellationToken);
            signal.Notify(); // inside the first wake-up's gathering second

            await WaitForPassesAsync(job, 2);
            // Without the gathering, the second announcement would have had a pass of its own by now.
            await Task.Delay(500, TestContext.Current.CancellationToken);
            Assert.Equal(2, job.Passes);
        }
        finally
        {
            await job.StopAsync(CancellationToken.None);
        }
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

    private sealed class CountingJob(WakeSignal signal, TimeSpan gatherAfterWake) : SignalledJob(signal, NullLogger.Instance)
    {
        private int _passes;

        public int Passes => Volatile.Read(ref _passes);

        protected override TimeSpan FallbackPoll => TimeSpan.FromMinutes(10);

        protected override TimeSpan GatherAfterWake => gatherAfterWake;

        protected override Task<JobPass> RunOnceAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref _passes);
            return Task.FromResult(new JobPass(false, null));
        }
    }
}
