using Aspire.Hosting.ApplicationModel;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// How a resource's console output is kept for the tests that read it (no app needed: run with
/// <c>SHOP_TESTS_SHARED_APP=off</c> to skip booting the shared one).
/// </summary>
public sealed class KeptResourceLogTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"kept-{Guid.NewGuid():N}.log");

    public void Dispose() => File.Delete(_path);

    private static LogLine Line(int number, string stamp, string text) => new(number, $"2026-12-07T10:00:{stamp}Z {text}", false);

    /// <summary>
    /// Two replicas' watches deliver their batches in whatever order they come: a replica's line can arrive after another
    /// replica's later one. It was dropped as a replay, and a test reading the scaled app's logs missed it.
    /// </summary>
    [Fact]
    public async Task A_replicas_line_that_arrives_after_another_replicas_later_line_is_kept()
    {
        var log = new KeptResourceLog(_path);
        await log.AppendAsync("orders-aaaa", [Line(1, "00.2000000", "info: from a")]);
        await log.AppendAsync("orders-bbbb", [Line(1, "00.1000000", "info: from b")]);

        Assert.Equal(["2026-12-07T10:00:00.2000000Z info: from a", "2026-12-07T10:00:00.1000000Z info: from b"], await File.ReadAllLinesAsync(_path));
    }

    /// <summary>
    /// A restarted instance's watch replays the earlier process's lines before its new ones: kept once, also the last line
    /// kept before the restart (stamped as the newest, not before it).
    /// </summary>
    [Fact]
    public async Task A_restarted_instances_replayed_lines_are_kept_once()
    {
        var log = new KeptResourceLog(_path);
        await log.AppendAsync("orders-aaaa", [Line(1, "00.1000000", "info: first run"), Line(2, "00.2000000", "info: first run ends")]);
        await log.AppendAsync("orders-aaaa", [Line(3, "00.1000000", "info: first run"), Line(4, "00.2000000", "info: first run ends"), Line(5, "05.0000000", "info: second run")]);

        Assert.Equal(
        [
            "2026-12-07T10:00:00.1000000Z info: first run",
            "2026-12-07T10:00:00.2000000Z info: first run ends",
            "2026-12-07T10:00:05.0000000Z info: second run",
        ], await File.ReadAllLinesAsync(_path));
    }

    /// <summary>The lines of one read of a process's output share a stamp; equal ones (a stack trace's) are all kept.</summary>
    [Fact]
    public async Task Equal_lines_with_one_stamp_are_all_kept()
    {
        var log = new KeptResourceLog(_path);
        await log.AppendAsync("orders-aaaa", [Line(1, "00.1000000", "   at Loop()"), Line(2, "00.1000000", "   at Loop()")]);
        await log.AppendAsync("orders-aaaa", [Line(3, "00.1000000", "   at Main()")]);

        Assert.Equal(3, (await File.ReadAllLinesAsync(_path)).Length);
    }
}
