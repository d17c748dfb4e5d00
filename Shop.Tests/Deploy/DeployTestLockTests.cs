using System.Diagnostics;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// The deploy test's machine lock (scripts/deploy-test/deploy-test.sh), on a lock file of the test's own so that no real
/// deploy test on the machine is disturbed. No platform, build or container: the script stops before its first phase.
/// </summary>
public sealed class DeployTestLockTests
{
    /// <summary>
    /// A process that inherited the lock from a deploy test and outlived it (the platform's dockerd did, after a --keep run)
    /// holds it for ever: the next run waited 30 minutes and gave up. It fails at once instead, naming the holder and the command.
    /// </summary>
    [Fact]
    public async Task A_lock_held_by_anything_but_a_deploy_test_fails_the_run_at_once_naming_the_holder()
    {
        var lockFile = Path.Combine(Path.GetTempPath(), $"shop-lock-test-{Guid.NewGuid():N}.lock");
        using var holder = Process.Start("flock", [lockFile, "sleep", "600"]);
        try
        {
            Assert.True(await Eventually.HoldsAsync(() => !Free(lockFile), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50)), "flock never took the lock");
            var info = new ProcessStartInfo(Path.Combine(PublishOutput.RepositoryRoot, "scripts", "deploy-test", "deploy-test.sh"))
            {
                WorkingDirectory = PublishOutput.RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["SHOP_DEPLOY_TEST_LOCK"] = lockFile },
            };
            using var run = Process.Start(info)!;
            var output = Task.WhenAll(run.StandardOutput.ReadToEndAsync(), run.StandardError.ReadToEndAsync());
            // A bound for the test, not a timing: the run either ends by itself in seconds or waits its 30 minutes.
            using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var ended = await run.WaitForExitAsync(bound.Token).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            if (!ended)
            {
                run.Kill(entireProcessTree: true);
            }
            var transcript = string.Join('\n', await output);

            Assert.True(ended, "the run was still waiting for the lock after 2 minutes:\n" + transcript);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("is held by processes that are not a deploy test:", transcript);
            Assert.Contains($"  pid {holder.Id} flock {lockFile} sleep 600", transcript);
            Assert.Contains("./shop platform stop", transcript);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            File.Delete(lockFile);
        }
    }

    private static bool Free(string lockFile)
    {
        using var probe = Process.Start("flock", ["-n", lockFile, "true"]);
        probe.WaitForExit();
        return probe.ExitCode == 0;
    }
}
