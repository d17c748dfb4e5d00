using System.Diagnostics;
using System.Text.RegularExpressions;
using Shop.Tests.Deploy;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The first `./shop` on a freshly booted VM meets apt-daily or unattended-upgrades holding apt's locks (and the
/// container platform's setup may run apt beside it): it waits for them instead of failing the whole setup.
/// </summary>
public sealed partial class AptPackagesTests
{
    private const string ListsLock = "/var/lib/apt/lists/lock";

    [Fact]
    public async Task Updating_the_package_lists_while_another_apt_holds_their_lock_waits_for_it()
    {
        Assert.SkipUnless(Environment.UserName == "root", "Only root can take apt's lock, as ./shop's setup does with sudo.");
        // apt takes its locks with fcntl: this holder keeps the lists' lock until its standard input closes.
        using var holder = Start("python3", "-c",
            $"import fcntl, sys; f = open('{ListsLock}', 'w'); fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()");
        try
        {
            Assert.Equal("held", await holder.StandardOutput.ReadLineAsync());
            var said = "";
            var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Bounds for the test, not timings: 2 min to say it waits, 8 in all with the update against the mirror once the lock is free.
            var update = ChildProcess.RunAsync("bash", ["-c", "log() { echo \"$*\"; }; as_root() { \"$@\"; }; . scripts/apt-packages.sh; apt_update"],
                PublishOutput.RepositoryRoot, timeout: TimeSpan.FromMinutes(8),
                // Never ends the run: tells the test once apt_update has said, in a whole line, that it waits.
                stopWhen: output =>
                {
                    said = output;
                    if (WaitingLine().IsMatch(output))
                    {
                        waiting.TrySetResult();
                    }
                    return false;
                });
            await Eventually.HoldsAsync(() => waiting.Task.IsCompleted || update.IsCompleted, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(100));
            Assert.True(waiting.Task.IsCompleted && !update.IsCompleted,
                "apt_update did not wait for the lock:\n" + (update.IsCompleted ? (await update).ToString() : said));
            Assert.Contains($"held by process {holder.Id}", said);

            holder.StandardInput.Close();
            // Once the lock is free the update runs against the mirror and succeeds.
            (await update).AssertSucceeded();
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }
        }
    }

    [GeneratedRegex(@"Waiting up to [^\n]*\n")]
    private static partial Regex WaitingLine();

    /// <summary>The lock's holder: it keeps the lock until its standard input closes, which ChildProcess does not give a test.</summary>
    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = PublishOutput.RepositoryRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info)!;
    }
}
