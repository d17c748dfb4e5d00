using Shop.AppHost.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The throw-away data roots of test AppHosts (<see cref="EphemeralDataRoot"/>): each start removes the ones whose
/// AppHost has gone, and only those. No AppHost is booted: the rules run on a private temporary directory.
/// </summary>
public sealed class EphemeralDataRootTests : IDisposable
{
    private readonly string _tempRoot = Directory.CreateTempSubdirectory("shop-ephemeral-root-tests-").FullName;

    /// <summary>
    /// Two AppHosts starting at once (test runs of parallel worktrees): the first has made its directory and not yet
    /// written anything into it when the second looks for leftovers. The directory must say whose it is from its first
    /// instant: before, a directory without its owner file was taken for a leftover and deleted under a live AppHost.
    /// </summary>
    [Fact]
    public void A_data_root_a_live_AppHost_has_only_just_made_is_not_removed_by_another_start()
    {
        var root = EphemeralDataRoot.CreateIn(_tempRoot);
        // The moment between making the directory and writing into it.
        foreach (var file in Directory.EnumerateFiles(root))
        {
            File.Delete(file);
        }

        var other = EphemeralDataRoot.CreateIn(_tempRoot);

        Assert.True(Directory.Exists(root), $"{root} was deleted by a concurrent start although its AppHost (this process) is alive");
        Assert.True(Directory.Exists(other));
    }

    [Fact]
    public async Task A_data_root_whose_AppHost_has_exited_is_removed_at_the_next_start()
    {
        var ct = TestContext.Current.CancellationToken;
        using var exited = System.Diagnostics.Process.Start("true")!;
        await exited.WaitForExitAsync(ct);
        var leftover = Path.Combine(_tempRoot, EphemeralDataRoot.DirectoryName(exited.Id));
        Directory.CreateDirectory(Path.Combine(leftover, "postgres"));

        var root = EphemeralDataRoot.CreateIn(_tempRoot);

        Assert.False(Directory.Exists(leftover), $"{leftover} of an exited AppHost was left behind");
        Assert.True(Directory.Exists(root));
    }

    public void Dispose() => Directory.Delete(_tempRoot, recursive: true);
}
