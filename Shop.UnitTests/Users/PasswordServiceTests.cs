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

    [Fact]
    public void A_right_password_with_an_outdated_hash_comes_back_with_a_hash_at_todays_work_factor()
    {
        using var passwords = new PasswordService();
        // Identity's own default work factor (100,000), below ours: what an older release stored.
        var outdated = new PasswordHasher<object>(Microsoft.Extensions.Options.Options.Create(new PasswordHasherOptions { IterationCount = 100_000 }))
            .HashPassword(null!, "correct horse battery");

        var (result, upgraded) = passwords.VerifyAndUpgrade(outdated, "correct horse battery");

        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, result);
        Assert.NotNull(upgraded);
        Assert.Equal(PasswordService.IterationCount, IterationsOf(upgraded));
        Assert.Equal(PasswordVerificationResult.Success, passwords.Verify(upgraded, "correct horse battery"));
        Assert.Equal((PasswordVerificationResult.Failed, (string?)null), passwords.VerifyAndUpgrade(outdated, "wrong horse battery"));
        Assert.Equal((PasswordVerificationResult.Success, (string?)null), passwords.VerifyAndUpgrade(upgraded, "correct horse battery"));
    }

    // Identity's V3 format: a marker byte, then the PRF and the iteration count as big-endian 32-bit numbers.
    private static int IterationsOf(string hash) =>
        System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(Convert.FromBase64String(hash).AsSpan(5, 4));
}
