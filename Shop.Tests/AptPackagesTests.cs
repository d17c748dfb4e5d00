using System.Diagnostics;
using System.Text;
using Shop.Tests.Deploy;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The first `./shop` on a freshly booted VM meets apt-daily or unattended-upgrades holding apt's locks (and the
/// container platform's setup may run apt beside it): it waits for them instead of failing the whole setup.
/// </summary>
public sealed class AptPackagesTests
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
            using var update = Start("bash", "-c",
                "log() { echo \"$*\"; }; as_root() { \"$@\"; }; . scripts/apt-packages.sh; apt_update");
            var transcript = new StringBuilder();
            var lines = Task.WhenAll(Collect(update.StandardOutput, transcript), Collect(update.StandardError, transcript));
            var waiting = await Eventually.HoldsAsync(() => Said(transcript, "Waiting up to") || update.HasExited,
                TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(100));
            Assert.True(waiting && !update.HasExited, "apt_update did not wait for the lock:\n" + Said(transcript));
            Assert.Contains($"held by process {holder.Id}", Said(transcript));

            holder.StandardInput.Close();
            // A bound for the test, not a timing: after the lock is free the update runs against the mirror.
            using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await update.WaitForExitAsync(bound.Token);
            await lines;
            Assert.True(update.ExitCode == 0, $"apt_update failed once the lock was free (exit {update.ExitCode}):\n{Said(transcript)}");
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }
        }
    }

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

    private static async Task Collect(StreamReader reader, StringBuilder transcript)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (transcript)
            {
                transcript.AppendLine(line);
            }
        }
    }

    private static string Said(StringBuilder transcript)
    {
        lock (transcript)
        {
            return transcript.ToString();
        }
    }

    private static bool Said(StringBuilder transcript, string text) => Said(transcript).Contains(text, StringComparison.Ordinal);
}
