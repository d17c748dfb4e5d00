using System.Net;
using System.Text.RegularExpressions;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// An internal client's circuit breaker really opening: Orders' client of Users (the account check of a placement),
/// with Users stopped. Its options (InternalServiceClients, a quick call): at least 10 tries in a 10 s sampling window,
/// half or more of them failed, opens the circuit for 5 s; a placement makes up to 3 tries (MaxRetryAttempts 2).
/// Runs alone with the fault tests: it takes Users away.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed partial class CircuitBreakerTests(ShopApp shop)
{
    /// <summary>
    /// What an operator sees and a client gets while a dependency's circuit is open: the opening is one Error per opening
    /// (another only after a half-open try failed), a call the open circuit refuses is not tried and logs nothing at
    /// Warning or above (the whole outage is one Warning in Orders' log, and one Information line once nothing has been
    /// refused for a while), and is answered at once with the same 503 problem, Retry-After and all, as a call whose tries
    /// were refused by the stopped service. Once Users is back and the break has passed, the half-open try succeeds and
    /// placements go through again, with nothing restarted but Users.
    /// </summary>
    [Fact]
    public async Task An_open_circuit_refuses_calls_untried_with_the_outages_503_logs_its_opening_once_and_closes_when_the_dependency_is_back()
    {
        var sku = await shop.NewItemAsync();
        var (client, _) = await shop.NewUserAsync();
        await (await client.GetAsync("/orders/")).ExpectAsync(200); // Orders has Users' keys and this token's stamp is in Redis
        var from = DateTimeOffset.UtcNow;
        await shop.StopResourceAsync("users");
        var away = new List<Placement>();
        var refused = new List<Placement>();
        LogTail? ended = null;
        try
        {
            // Tries refused by the stopped process until they open the circuit (the 4th placement, unless other calls
            // to Users in the window counted too): bounded, so a circuit that never opens fails with what was logged.
            do
            {
                away.Add(await PlaceAsync(client, sku));
            }
            while (!away[^1].Log.Contains("OnCircuitOpened", StringComparison.Ordinal) && away.Count < 20);
            Assert.True(away[^1].Log.Contains("OnCircuitOpened", StringComparison.Ordinal),
                $"no circuit opened after {away.Count} placements with Users away:\n{Summary(away)}");
            Assert.True(away[0].Tried, "the first placement did not try Users:\n" + away[0].Log);

            // Refused by the open circuit: no try logged at all. A break may end meanwhile on a slow machine (its half-open
            // try reaches the stopped process and opens the circuit again), so look until three placements were refused.
            do
            {
                var placement = await PlaceAsync(client, sku);
                (placement.Tried ? away : refused).Add(placement);
            }
            while (refused.Count < 3 && away.Count + refused.Count < 40);
            Assert.True(refused.Count == 3, $"{refused.Count} of 3 placements refused by the open circuit untried; the others:\n{Summary(away)}");
            // The outage's end is logged once nothing has been refused for a while: from here on, it can only be this one's.
            ended = new LogTail(shop.ResourceLogPath("orders"));
        }
        finally
        {
            await shop.StartAndWaitHealthyAsync("users");
        }
        // The outage is said once: its first refusal is a Warning (here, or in an earlier test's outage that had not
        // ended yet), each later one only a Debug line (enabled for this category in the test app) that marks its end.
        var placements = away.Concat(refused).ToList();
        var warned = placements.SelectMany(p => p.Entries).Count(e => e.StartsWith("warn: ", StringComparison.Ordinal)
            && e.Contains("Dependency unavailable: users", StringComparison.Ordinal) && !e.Contains("more requests refused", StringComparison.Ordinal));
        Assert.True(warned <= 1, $"{warned} Warnings for {placements.Count} placements refused while Users was away:\n{Summary(placements)}");
        // Nor is each try of a placement: Polly's per-attempt events (a handled ExecutionAttempt, OnRetry) narrate the
        // retries of every request that reached the stopped process, until the circuit opened. Its opening stays an Error.
        var attemptWarnings = placements.SelectMany(p => p.Entries).Count(e => e.StartsWith("warn: Polly", StringComparison.Ordinal)
            && (e.Contains("Execution attempt.", StringComparison.Ordinal) || e.Contains("'OnRetry'", StringComparison.Ordinal)));
        Assert.True(attemptWarnings == 0, $"{attemptWarnings} Polly per-attempt Warnings for {placements.Count} placements refused while Users was away:\n{Summary(placements)}");

        var closed = await FaultTests.UntilAsync(() => client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } }),
            r => r.StatusCode != HttpStatusCode.ServiceUnavailable);
        await closed.ExpectAsync(201);
        var until = DateTimeOffset.UtcNow;
        // Once no request has been refused for a while the outage's end is one Information line; by then every line of
        // the outage has reached the log file.
        var end = await ended!.WaitForAsync("Dependency users: no request refused for");
        Assert.Contains("info: Shop.ServiceDefaults.OutageLog", end);

        // The same answer as when Users' tries were refused: the open circuit is the same outage to the client.
        var outage = away[0].Problem;
        foreach (var placement in refused)
        {
            Assert.Equal(outage.GetProperty("title").GetString(), placement.Problem.GetProperty("title").GetString());
            Assert.Equal(outage.GetProperty("detail").GetString(), placement.Problem.GetProperty("detail").GetString());
            Assert.Equal(away[0].RetryAfter, placement.RetryAfter);
            // Nothing at Warning or above: Polly reports the refused call (an ExecutionAttempt it does not handle,
            // Handled: False) at Information, below the Polly category's Warning, and the outage was said when it began
            // (a summary of its refusals, every 30 s, may fall into a placement's lines on a slow machine).
            Assert.True(placement.Entries.All(e => e.Contains("more requests refused", StringComparison.Ordinal)),
                "a placement refused by the open circuit logged more than the outage's summary:\n" + placement.Log);
        }
        Assert.All(away.Concat(refused), p => Assert.DoesNotContain("OnTimeout", p.Log));

        // One Error per opening. The circuit opens again only after a half-open try (a Warning) failed, and
        // once Users answers the last half-open try closes it (Information, below the Polly category's Warning).
        var events = await CircuitEventsAsync(from, until);
        var expected = Enumerable.Range(0, events.Count / 2).SelectMany(_ => new[] { "fail OnCircuitOpened", "warn OnCircuitHalfOpened" });
        Assert.True(events.Count >= 2 && events.SequenceEqual(expected),
            "the circuit's events, expected opened (Error) and half-opened (Warning) in turn, ending half-opened:\n" + string.Join("\n", events));

        // No other Error in Orders or at the gateway while the circuit was open.
        var errors = (await shop.ErrorEntriesAsync(["orders", "gateway"], from, until))
            .Where(e => !e.Contains("OnCircuitOpened", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, string.Join("\n\n", errors));
    }

    /// <summary>A placement answered while Users is away, whether it tried Users (or the open circuit refused it), and what Orders logged for it.</summary>
    private sealed record Placement(System.Text.Json.JsonElement Problem, TimeSpan? RetryAfter, string Log, bool Tried, List<string> Entries);

    /// <summary>
    /// Places an order, expecting the 503 naming Users, and reads what Orders logged for it: its entries up to the line
    /// its refusal is logged or counted in (the outage's Warning, or a Debug line), the last thing a failed placement logs.
    /// One placement at a time, so they are its own.
    /// </summary>
    private async Task<Placement> PlaceAsync(ShopClient client, string sku)
    {
        var tail = new LogTail(shop.ResourceLogPath("orders"));
        var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } });
        var problem = await response.ExpectUnavailableAsync("users");
        var log = await tail.WaitForAsync("Dependency unavailable: users");
        var lines = log.Split('\n').Select(l => l[(l.IndexOf(' ') + 1)..].Trim()).ToList();
        // An entry (Warning and up) is its "level: category[id]" line and its message on the next.
        var entries = lines.Select((l, i) => (Header: EntryHeader().Match(l), Index: i))
            .Where(h => h.Header.Success && h.Index + 1 < lines.Count)
            .Select(h => $"{h.Header.Groups[1].Value}: {h.Header.Groups[2].Value} {lines[h.Index + 1]}").ToList();
        // A try reaching the stopped process is refused; Polly says each try below Warning, but the refusal's reason (the
        // outage's Warning or its Debug line) or the circuit's opening by it still names the refused connection.
        var tried = log.Contains("Connection refused", StringComparison.Ordinal);
        return new Placement(problem, response.Headers.RetryAfter?.Delta, log, tried, entries);
    }

    /// <summary>Whether each placement tried Users, and its log entries, one line each, for a failure's message.</summary>
    private static string Summary(IEnumerable<Placement> placements) =>
        string.Join("\n", placements.Select(p => $"{(p.Tried ? "tried" : "untried")}: {string.Join(" | ", p.Entries)}"));

    /// <summary>The circuit events of Orders' client of Users in the window, in order, each with its level ("fail", "warn").</summary>
    private async Task<List<string>> CircuitEventsAsync(DateTimeOffset from, DateTimeOffset until)
    {
        var lines = (await shop.LogLinesAsync("orders", from, until)).Select(l => l[(l.IndexOf(' ') + 1)..].Trim()).ToList();
        return [.. lines.Select((l, i) => (Event: CircuitEvent().Match(l), Index: i))
            .Where(e => e.Event.Success && e.Index > 0)
            .Select(e => $"{lines[e.Index - 1][..4]} {e.Event.Groups[1].Value}")];
    }

    [GeneratedRegex(@"^(warn|fail|crit): ([\w.]+)\[\d+\]$")]
    private static partial Regex EntryHeader();

    [GeneratedRegex(@"EventName: '(OnCircuit\w+)', Source: 'UsersAccountClient")]
    private static partial Regex CircuitEvent();
}
