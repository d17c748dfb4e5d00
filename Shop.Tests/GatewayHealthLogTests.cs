using System.Text.RegularExpressions;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// What the gateway logs while a service is away: it probes each destination every 3 s, and an operator reading its
/// log during an outage is told once that the destination went unhealthy (why, in one line) and once that it is back,
/// not once per failed probe. Runs alone with the fault tests: it takes Users away.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed partial class GatewayHealthLogTests(ShopApp shop)
{
    [Fact]
    public async Task A_stopped_service_is_logged_once_when_its_probes_take_it_out_and_once_when_it_answers_again()
    {
        var from = DateTimeOffset.UtcNow;
        await shop.StopResourceAsync("users");
        try
        {
            // Two failed probes in a row (3 s apart) make the destination unhealthy.
            var down = await Eventually.ReadUntilAsync(() => shop.LogLinesSoFarAsync("gateway", from),
                lines => lines.Any(l => l.Contains("nhealthy", StringComparison.Ordinal) && l.Contains("users", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
            Assert.True(down.Any(l => l.Contains("nhealthy", StringComparison.Ordinal)), "the gateway never took Users out:\n" + string.Join("\n", down));
            // Users stays away for several more probes, which add nothing to the log (the recovery line counts them).
            await Task.Delay(TimeSpan.FromSeconds(15));
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("users");
        }
        var back = await Eventually.ReadUntilAsync(() => shop.LogLinesSoFarAsync("gateway", from),
            lines => lines.Any(l => Recovered().IsMatch(l)), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        var until = DateTimeOffset.UtcNow;
        var lines = await shop.LogLinesAsync("gateway", from, until);

        // One Warning for the whole outage, its reason on its one line; no stack trace anywhere in the window.
        var warnings = await shop.ErrorEntriesAsync(["gateway"], from, until, linesPerEntry: 2, warnings: true);
        Assert.True(warnings.Count == 1 && Unhealthy().IsMatch(warnings[0]),
            $"expected one Warning (Users' destination unhealthy, with its reason), the gateway logged {warnings.Count}:\n" + string.Join("\n\n", warnings.Take(5)));
        var frames = lines.Where(l => StackFrame().IsMatch(l)).ToList();
        Assert.True(frames.Count == 0, $"{frames.Count} stack-trace lines in the gateway's log during the outage, e.g.:\n" + string.Join("\n", frames.Take(5)));

        // Its end once, an Information naming how many probes failed meanwhile: the ones to go unhealthy and more.
        var recovered = back.Select(l => Recovered().Match(l)).Where(m => m.Success).ToList();
        Assert.True(recovered.Count == 1, "expected one line saying Users is healthy again:\n" + string.Join("\n", back.TakeLast(20)));
        Assert.True(int.Parse(recovered[0].Groups[1].Value) >= 4, "fewer failed probes than the outage lasted: " + recovered[0].Value);
        var header = lines[lines.FindIndex(l => Recovered().IsMatch(l)) - 1];
        Assert.Contains("info: Shop.Gateway.", header);
    }

    // The Warning's two lines, as ErrorEntriesAsync joins them: the destination, and why the probes failed.
    [GeneratedRegex(@"warn: Shop\.Gateway\.[\w.]+\[\d+\]\n\s+.*destination `d1[^`]*` of cluster `users` .*unhealthy.*Connection refused", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Unhealthy();

    [GeneratedRegex(@"destination `d1[^`]*` of cluster `users` .*healthy again after (\d+) failed", RegexOptions.IgnoreCase)]
    private static partial Regex Recovered();

    [GeneratedRegex(@"^\S+\s+at \S+\(.*\)")]
    private static partial Regex StackFrame();
}
