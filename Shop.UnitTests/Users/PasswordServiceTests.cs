using Microsoft.AspNetCore.Identity;
using Shop.Users.Services;
using Xunit;

namespace Shop.UnitTests.Users;

public sealed class PasswordServiceTests
{
    [Fact]
    public async Task A_password_check_runs_on_a_thread_of_its_own_not_on_the_thread_pool()
    {
        // A check holds a core for ~100 ms (longer on a busy machine). On the thread pool, the checks of
        // a burst of sign-ins held its threads while Redis replies waited behind them, long enough for the
        // Redis client to declare the connection dead and the login throttle to count per replica
        // (docs/performance.md, Round 10).
        using var passwords = new PasswordService();
        var hash = passwords.Hash("correct horse battery");
        var checks = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => passwords.WithinCapAsync(
            () => (OnPool: Thread.CurrentThread.IsThreadPoolThread, Result: passwords.Verify(hash, "correct horse battery")),
            CancellationToken.None)));
        Assert.All(checks, c =>
        {
            Assert.True(c.Ran);
            Assert.Equal(PasswordVerificationResult.Success, c.Result.Result);
            Assert.False(c.Result.OnPool, "the password check ran on a thread-pool thread");
        });
    }

    [Fact]
    public async Task A_check_that_throws_reaches_its_caller_and_frees_its_place()
    {
        using var passwords = new PasswordService();
        await Assert.ThrowsAsync<FormatException>(() => passwords.WithinCapAsync<int>(() => throw new FormatException("bad hash"), CancellationToken.None));
        var after = await Task.WhenAll(Enumerable.Range(0, Math.Max(2, Environment.ProcessorCount) + 1)
            .Select(_ => passwords.WithinCapAsync(() => 1, CancellationToken.None)));
        Assert.All(after, a => Assert.True(a.Ran));
    }
}
