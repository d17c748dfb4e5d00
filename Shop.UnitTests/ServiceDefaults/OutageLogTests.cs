using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// During an outage every request that needs the missing dependency is refused with 503. At a few hundred requests a
/// second a Warning each was hundreds of identical lines a second for as long as it lasted: the first refusal is said,
/// the rest are counted and summed up, and the end is said once.
/// </summary>
public sealed class OutageLogTests
{
    /// <summary>
    /// The service's error handler as the services register it: many requests refused while Users and the database are
    /// away are one Warning each, and every client still gets the outage's 503 with Retry-After.
    /// </summary>
    [Fact]
    public async Task Many_requests_refused_during_an_outage_are_one_warning_per_dependency_and_each_still_gets_the_503()
    {
        var clock = new FakeTimeProvider();
        await using var services = new ServiceCollection()
            .AddLogging(l => l.AddFakeLogging())
            .AddSingleton<TimeProvider>(clock)
            .AddShopProblemDetails()
            .BuildServiceProvider();
        var handler = services.GetServices<IExceptionHandler>().OfType<ShopExceptionHandler>().Single();
        var failures = Enumerable.Range(0, 200).SelectMany(_ => new Exception[]
        {
            new ServiceUnavailableException("users", new HttpRequestException("Connection refused (users:80)")),
            new Npgsql.NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")),
        });

        foreach (var failure in failures)
        {
            var http = new DefaultHttpContext { RequestServices = services };
            http.Response.Body = new MemoryStream();
            Assert.True(await handler.TryHandleAsync(http, failure, TestContext.Current.CancellationToken));
            Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
            Assert.Equal(ShopProblems.RetryAfterHeader, http.Response.Headers.RetryAfter.ToString());
        }

        var said = services.GetFakeLogCollector().GetSnapshot().Where(r => r.Level >= LogLevel.Information).ToList();
        Assert.True(said.Count == 2, $"{said.Count} lines for 400 refused requests:\n" + string.Join("\n", said.Take(5).Select(r => $"{r.Level}: {r.Message}")));
        Assert.All(said, r => Assert.Equal(LogLevel.Warning, r.Level));
    }

    /// <summary>
    /// One dependency's outage, driven by a fake clock: the first refusal a Warning with its reason, the next ones
    /// counted and said every 30 s while they go on, the end one Information line 10 s after the last one, and no timer
    /// left running after it.
    /// </summary>
    [Fact]
    public void An_outage_is_one_warning_then_a_count_every_30_s_and_one_information_line_once_none_is_refused_for_10_s()
    {
        var clock = new FakeTimeProvider();
        var logger = new FakeLogger<OutageLog>();
        using var outages = new OutageLog(logger, clock);

        outages.Refused("users", "Connection refused (users:80)");
        var first = Assert.Single(Said(logger));
        Assert.Equal(LogLevel.Warning, first.Level);
        Assert.StartsWith("Dependency unavailable: users (Connection refused (users:80)).", first.Message);

        // 50 a second for 30 s.
        for (var second = 0; second < 30; second++)
        {
            for (var i = 0; i < 50; i++)
            {
                outages.Refused("users", second < 20 ? "Connection refused (users:80)" : "The circuit is now open and is not allowing calls.");
            }
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        var summary = Said(logger)[^1];
        Assert.Equal(2, Said(logger).Count);
        Assert.Equal(LogLevel.Warning, summary.Level);
        Assert.Equal("Dependency unavailable: users — 1,500 more requests refused in the last 30 s (1,501 since it became unavailable 30 s ago), the last with: The circuit is now open and is not allowing calls.", summary.Message);

        // The last ones came 29 s in.
        Pass(clock, OutageLog.QuietAfter - TimeSpan.FromSeconds(2));
        Assert.Equal(2, Said(logger).Count);
        clock.Advance(TimeSpan.FromSeconds(1));
        var end = Said(logger)[^1];
        Assert.Equal(3, Said(logger).Count);
        Assert.Equal(LogLevel.Information, end.Level);
        Assert.StartsWith("Dependency users: no request refused for 10 s, so its outage is taken as over", end.Message);
        Assert.EndsWith("1,501 refused over 39 s", end.Message);

        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(3, Said(logger).Count);
        outages.Refused("users", "Connection refused (users:80)");
        Assert.Equal(LogLevel.Warning, Said(logger)[^1].Level);
        Assert.StartsWith("Dependency unavailable: users (", Said(logger)[^1].Message);
    }

    /// <summary>
    /// The end line comes <see cref="OutageLog.QuietAfter"/> after the last refusal, whenever in the timer's period that
    /// refusal came: checked only on a timer every 10 s, a refusal just after one tick was seen by the next, and the end
    /// came at the one after that, 10 to 20 s after the last refusal (here 19 s).
    /// </summary>
    [Fact]
    public void The_end_line_comes_10_s_after_the_last_refusal_wherever_it_fell_between_the_timers_checks()
    {
        var clock = new FakeTimeProvider();
        var logger = new FakeLogger<OutageLog>();
        using var outages = new OutageLog(logger, clock);

        outages.Refused("users", "Connection refused (users:80)");
        Pass(clock, TimeSpan.FromSeconds(5));
        outages.Refused("users", "Connection refused (users:80)");
        Pass(clock, TimeSpan.FromSeconds(6));
        outages.Refused("users", "Connection refused (users:80)"); // 11 s in: just after a check 10 s after the first
        Pass(clock, OutageLog.QuietAfter - TimeSpan.FromSeconds(1));
        Assert.Single(Said(logger));

        Pass(clock, TimeSpan.FromSeconds(1));
        var end = Said(logger)[^1];
        Assert.True(end.Level == LogLevel.Information, $"no end line 10 s after the last refusal (21 s in); said: {string.Join(" | ", Said(logger).Select(r => r.Message[..40]))}");
        Assert.EndsWith("3 refused over 21 s", end.Message);
    }

    /// <summary>Refusals racing on many threads (requests at once): one Warning, and every one of them in the count.</summary>
    [Fact]
    public void Refusals_on_many_threads_at_once_are_one_warning_and_all_counted()
    {
        var clock = new FakeTimeProvider();
        var logger = new FakeLogger<OutageLog>();
        using var outages = new OutageLog(logger, clock);

        Parallel.For(0, 40_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => outages.Refused("inventory", "Connection refused (inventory:80)"));
        clock.Advance(OutageLog.QuietAfter);

        var said = Said(logger);
        Assert.Equal(2, said.Count);
        Assert.Equal(LogLevel.Warning, said[0].Level);
        Assert.EndsWith("40,000 refused over 10 s", said[1].Message);
    }

    /// <summary>
    /// Each dependency has its own outage; a service key refused by a dependency (only an operator ends it) is said at
    /// Error and summed up at Error, apart from an outage of the same dependency.
    /// </summary>
    [Fact]
    public void Each_dependency_and_a_refused_key_have_their_own_outage_and_a_refused_key_stays_an_error()
    {
        var clock = new FakeTimeProvider();
        var logger = new FakeLogger<OutageLog>();
        using var outages = new OutageLog(logger, clock);

        // 5 each every 5 s, for 30 s.
        for (var i = 0; i < 6; i++)
        {
            for (var j = 0; j < 5; j++)
            {
                outages.Refused("users", "Connection refused (users:80)");
                outages.Refused("database", "Timeout during reading attempt");
                outages.Refused("inventory", "inventory refused this service's key (401)", LogLevel.Error);
                outages.Refused("inventory", "Connection refused (inventory:80)");
            }
            Pass(clock, TimeSpan.FromSeconds(5));
        }

        var said = Said(logger);
        Assert.Equal(
            [
                "Warning Dependency unavailable: users (Connection refused (users:80)).",
                "Warning Dependency unavailable: database (Timeout during reading attempt).",
                "Error Dependency unavailable: inventory (inventory refused this service's key (401)).",
                "Warning Dependency unavailable: inventory (Connection refused (inventory:80)).",
            ],
            said.Take(4).Select(r => $"{r.Level} {r.Message[..(r.Message.IndexOf(").", StringComparison.Ordinal) + 2)]}"));
        // Each outage's timer says its count: in no particular order.
        Assert.Equal(
            ["Error inventory 29", "Warning database 29", "Warning inventory 29", "Warning users 29"],
            said.Skip(4).Select(r => $"{r.Level} {r.Message.Split(' ')[2]} {r.Message.Split(' ')[4]}").Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Lets <paramref name="span"/> pass a second at a time, so a timer fires at about the time it was due, not at the end
    /// of one long step.
    /// </summary>
    private static void Pass(FakeTimeProvider clock, TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += TimeSpan.FromSeconds(1))
        {
            clock.Advance(TimeSpan.FromSeconds(1));
        }
    }

    private static List<FakeLogRecord> Said(FakeLogger<OutageLog> logger) =>
        [.. logger.Collector.GetSnapshot().Where(r => r.Level >= LogLevel.Information)];
}
